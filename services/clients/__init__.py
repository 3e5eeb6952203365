"""Clients of outside systems, each a small class around an injected ``httpx.Client``."""
