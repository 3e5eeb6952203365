"""Processes for the tests that run two callers at once (stages, number allocation).

They are forked from a server process that imported the application once (multiprocessing's ``forkserver``), not
started as new interpreters (``spawn``: about a second of imports per process, twice per test). The server imports
nothing but modules (no engine, no connection: nothing happens at import), so each child still opens its own database
connections, as a separate worker would. A child gets the parent's environment of the moment it starts, as with
``spawn`` (a forked child would otherwise carry the server's environment from when the server started).
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any

# what the children unpickle their targets from (a module that cannot be imported is skipped by multiprocessing)
PRELOAD = ["tests.integration.test_concurrent_stages", "tests.integration.test_numbering"]


def context() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # takes effect when the server starts: once per test process
    return ctx


def process(ctx: ForkServerContext, target: Callable[..., Any], *args: Any) -> BaseProcess:
    """A process (not started) that calls ``target(*args)`` in this process's current environment."""
    return ctx.Process(target=_in_environment, args=(dict(os.environ), target, args))


def _in_environment(environ: dict[str, str], target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    os.environ.clear()
    os.environ.update(environ)
    target(*args)
