"""Runtime: the long-lived local Prefect server the CLI, the demo and the tests run against, supervised by PID file.

:mod:`~services.runtime.server` (ensure, stop, status, the work pool), :mod:`~services.runtime.pidfile`,
:mod:`~services.runtime.launch`, :mod:`~services.runtime.process` and :mod:`~services.runtime.client`.
"""
