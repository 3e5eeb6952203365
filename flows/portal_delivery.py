"""Flow ``portal-delivery``: send the publications that are due to the province portal, retrying with backoff.

Short and idempotent over the stored messages (services/portal.py); scheduled every 15 minutes in prefect.yaml.
"""
from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows._settings import settings
from services import portal


@task(name="deliver-to-portal")
def deliver() -> dict[str, Any]:
    return portal.deliver(settings()).as_dict()


@flow(name="portal-delivery")
def portal_delivery() -> dict[str, Any]:
    """Publications, amendments and withdrawals that are due, each once; dead letters wait for the lead."""
    return deliver()
