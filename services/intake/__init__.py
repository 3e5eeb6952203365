"""Findings intake: the HTTP API inspectors and officials use from the field."""
