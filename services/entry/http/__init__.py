"""The intake HTTP app (FastAPI): :mod:`.app` builds it, :mod:`.server` serves it (uvicorn); the JSON API
(:mod:`.selection_api`, :mod:`.evidence_api`, the findings routes in :mod:`.app`), the inspectors' web form
(:mod:`.web`, :mod:`.web_form`), the public register (:mod:`.register_web`), and what every request goes through
(:mod:`.deps`, :mod:`.limits`, :mod:`.failures`). The use cases it calls live in :mod:`services.intake`."""
