"""Findings intake, the use cases behind the HTTP API inspectors and officials use from the field: submit and review
(:mod:`.logic`), decide the fines (:mod:`.decisions`), the evidence store (:mod:`.evidence`), the batch writer
(:mod:`.writer`) and the bodies they take and answer (:mod:`.schemas`, shared with :mod:`services.demo.intake_client`).
The app that serves them is :mod:`services.entry.http`."""
