"""IN-04: an id beyond the database's integers matches no route, never a 500.

PostgreSQL refuses a number above 2³¹−1 for an integer column and SQLite one above 2⁶³−1;
every ``<int:…>`` route argument stops at ``MAX_ID`` before a view can ask the database.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from plugin.inputs import MAX_ID
from tests.helpers import csrf_token_from

ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?\w+>")


def id_routes(app) -> list:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]


def path_with(rule, value: int) -> str:
    return ARGUMENT.sub(
        lambda match: str(value) if match.group("converter") == "int" else "x", rule.rule
    )


def test_in04_every_id_route_stops_at_the_largest_id(app):
    rules = id_routes(app)
    assert any(rule.rule.startswith("/admin/users/") for rule in rules)
    assert any(rule.rule.startswith("/api/todos/") for rule in rules)
    for rule in rules:
        for converter in rule._converters.values():
            if isinstance(converter, IntegerConverter):
                assert converter.max is not None and converter.max <= MAX_ID, rule.rule


@pytest.mark.parametrize("value", [MAX_ID + 1, 2**63, 10**30])
def test_in04_an_id_beyond_the_database_matches_no_route(app, admin_user, auth, value):
    assert auth.login(admin_user.email).status_code == 303
    token = csrf_token_from(auth.client.get("/admin/clients/new").get_data(as_text=True))
    for rule in id_routes(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = auth.client.open(
                path_with(rule, value), method=method, data={"csrf_token": token}
            )
            # No route takes the id: 404, or 405 where another rule (the API's CORS
            # preflight) matches the path for other methods.
            assert response.status_code in (404, 405), (method, rule.rule, response.status_code)


def test_in04_the_largest_id_still_reaches_the_view(admin_user, auth):
    assert auth.login(admin_user.email).status_code == 303
    response = auth.client.get(f"/admin/users/{MAX_ID}")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)
