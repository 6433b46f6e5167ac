"""IN-03: control characters are refused at the edge, the same way on SQLite and PostgreSQL.

A NUL is refused anywhere in a request (PostgreSQL cannot even receive one); any control
character is refused in a path, a parameter name and Basic credentials; single-line fields
refuse them all, multi-line fields (todo notes) keep tabs and line breaks.
"""

from __future__ import annotations

import base64

import pytest
from marshmallow import fields
from wtforms.fields import HiddenField, PasswordField, StringField
from wtforms.fields.core import UnboundField

from plugin.validators import Line, PlainText
from tests.helpers import csrf_token_from

# --- a NUL anywhere: 400 in the route's format ---------------------------------------------

NUL_PAGES = [
    "/t/share%00token",
    "/reset/a%00b",
    "/confirm/a%00b",
    "/login?next=/account%00",
    "/admin/users?q=%00nul",
    "/oauth/authorize?response_type=code&client_id=a%00b",
    "/%0d%0aSet-Cookie:x=1",
]


@pytest.mark.parametrize("path", NUL_PAGES)
def test_in03_a_nul_or_a_control_character_in_the_address_gets_an_error_page(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    assert "a character that is not allowed" in response.get_data(as_text=True)


def test_in03_a_nul_in_an_api_path_or_query_gets_the_envelope(client, token):
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("/api/actions/a%00b", "/api/todos?q=a%00b", "/api/todos?a%01b=1"):
        response = client.get(path, headers=headers)
        assert response.status_code == 400, path
        assert response.get_json()["error"] == "invalid_request"


def test_in03_a_nul_in_a_json_field_gets_the_envelope(client, token):
    response = client.post(
        "/api/todos",
        json={"title": "ok", "notes": "line one\nline\x00two"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert "'notes'" in response.get_json()["error_description"]


@pytest.mark.parametrize(
    "body",
    [
        {"grant_type": "refresh_token", "refresh_token": "r", "client_id": "a\x00b"},
        {"grant_type": "refresh_token", "refresh_token": "r\x00", "client_id": "a"},
    ],
)
@pytest.mark.parametrize("encoding", ["form", "json"])
def test_in03_a_nul_in_a_token_request_is_invalid_request(client, body, encoding):
    if encoding == "json":
        response = client.post("/oauth/token", json=body)
    else:
        response = client.post("/oauth/token", data=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "credentials", [b"a\x00b:secret", b"id:se\x1bcret", b"a%00b:secret", b"id:x%0a", b"\xff:x"]
)
def test_in03_control_characters_in_basic_credentials_are_invalid_request(client, credentials):
    response = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "r"},
        headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_in03_a_nul_in_a_login_form_gets_an_error_page(client):
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"email": "a\x00@example.com", "password": "x", "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 400
    assert "a character that is not allowed" in response.get_data(as_text=True)


# --- every text input declares its rule -----------------------------------------------------

# Strings whose format marshmallow checks, which leaves no room for a control character.
FORMATTED = (fields.Email, fields.Url, fields.UUID)


def test_every_string_field_of_an_api_input_is_line_or_text(app):
    from plugin.api.operations import operations

    for registered in operations(app):
        for schema in (registered.operation.query, registered.operation.body):
            if schema is None:
                continue
            for name, field in schema().fields.items():
                if isinstance(field, fields.String) and not isinstance(field, FORMATTED):
                    assert isinstance(field, Line), f"{schema.__name__}.{name} is a bare String"


def test_every_text_field_of_a_form_has_a_plain_text_validator(app):
    from flask_wtf import FlaskForm

    for form in all_subclasses(FlaskForm):
        for name in dir(form):
            unbound = getattr(form, name)
            if not isinstance(unbound, UnboundField):
                continue
            kind = unbound.field_class
            if not issubclass(kind, StringField) or issubclass(kind, PasswordField | HiddenField):
                continue
            validators = unbound.kwargs.get("validators", [])
            assert any(isinstance(v, PlainText) for v in validators), f"{form.__name__}.{name}"


def all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *all_subclasses(sub)]
    return [c for c in found if c.__module__.startswith("plugin.")]
