"""The ways in: the ``kiemtra`` command line (:mod:`services.entry.cli`) and the intake HTTP app
(:mod:`services.entry.http`). They parse what people send, call the use cases and stages, and print or answer;
no other room imports them."""
