"""Flows build their settings from the environment of the process that runs them (CLI or worker)."""
from services.settings import Settings, get_settings


def settings() -> Settings:
    return get_settings()
