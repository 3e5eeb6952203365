"""Publishing: the public register of sanction outcomes and the guard that keeps people's names out of it.

- :mod:`services.publishing.register`: the register's rows, search, page, JSON and CSV, and the files written for a
  web server;
- :mod:`services.publishing.deidentify`: the de-identification guard (no inspector, official, complainant, victim
  or household-business owner named), over :mod:`services.publishing.lookalikes` (text as a reader sees it).

A room of its own, below the stages: the publishing stage (``services.stages.publishing``), the sanctions and
appeals stages, the ``portal-delivery`` flow and the HTTP app's read-only pages all build on it; it imports no stage.
"""
