"""Fixtures for the connection-trace tests: the stored traces, read as the CLI prints them."""

from __future__ import annotations

import pytest


@pytest.fixture
def traces(app):
    """Every stored trace as ``trace_as_dict`` gives it, newest first."""
    from plugin.connections.queries import query_traces, trace_as_dict

    def read() -> list[dict]:
        with app.app_context():
            return [trace_as_dict(trace) for trace in query_traces(limit=1000)]

    return read
