"""``kiemtra``, the command line (``pyproject.toml`` ``[project.scripts]``): :mod:`.app` holds the commands and
mounts one sub-command module per subject (appeals, deadlines, history, portal, registry, reports, schedule,
selection, tokens); :mod:`.console` is what every command shares."""
