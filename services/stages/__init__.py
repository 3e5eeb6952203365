"""The campaign's stages as plain functions over the database (flows wrap them as Prefect tasks).

Each stage reads the stored state, does only what is still to do, and commits in small units, so any
stage can be re-run or resumed after a crash with the same end result.
"""
