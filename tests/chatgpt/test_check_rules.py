"""The rules behind `flask check`, one by one, on small hand-made documents."""

from __future__ import annotations

import copy

import pytest

from plugin.chatgpt.check import check_plugin, registrable_domain

BASE = "https://todo.example.com"
MANIFEST = {
    "schema_version": "v1",
    "name_for_human": "Todo",
    "name_for_model": "todo",
    "description_for_human": "Todos.",
    "description_for_model": "Use for todos.",
    "auth": {
        "type": "oauth",
        "client_url": BASE + "/oauth/authorize",
        "scope": "todos:read",
        "authorization_url": BASE + "/oauth/token",
        "authorization_content_type": "application/json",
    },
    "api": {"type": "openapi", "url": BASE + "/openapi.yaml", "is_user_authenticated": False},
    "logo_url": "https://static.example.com/logo.png",
    "contact_email": "help@example.com",
    "legal_info_url": BASE + "/legal",
}
DOCUMENT = {
    "openapi": "3.0.1",
    "info": {"title": "Todo", "version": "1"},
    "servers": [{"url": BASE}],
    "paths": {
        "/a": {
            "get": {
                "operationId": "getA",
                "summary": "A.",
                "security": [],
                "responses": {"200": {"description": "ok"}},
                "x-openai-isConsequential": False,
            }
        }
    },
}


def problems(manifest=None, document=None) -> list[str]:
    findings = check_plugin(manifest or MANIFEST, document or DOCUMENT)
    return [f"{f.where}: {f.message}" for f in findings if f.severity == "error"]


def test_a_good_plugin_has_no_problems():
    assert problems() == []


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://api.example.com/x", "example.com"),
        ("https://example.co.uk", "example.co.uk"),
        ("https://a.b.example.co.uk", "example.co.uk"),
        ("http://127.0.0.1:5003/x", "127.0.0.1"),
        ("not a url", None),
        (None, None),
    ],
)
def test_registrable_domain(url, domain):
    assert registrable_domain(url) == domain


def test_urls_on_another_site_or_plain_http_are_refused():
    manifest = copy.deepcopy(MANIFEST)
    manifest["legal_info_url"] = "https://legal.other.org/terms"
    manifest["auth"]["client_url"] = "http://todo.example.com/oauth/authorize"
    found = problems(manifest)
    assert (
        "manifest.legal_info_url: is not on the plugin's domain example.com (got legal.other.org)"
        in found
    )
    assert any(line.startswith("manifest.auth.client_url: must use https") for line in found)


def test_verification_tokens_must_hold_an_openai_token():
    manifest = copy.deepcopy(MANIFEST)
    manifest["auth"]["verification_tokens"] = {"other": "x"}
    assert problems(manifest) == [
        "manifest.auth.verification_tokens: must be an object with an openai token"
    ]


def test_missing_sections():
    manifest = {key: value for key, value in MANIFEST.items() if key not in ("auth", "api")}
    found = problems(manifest)
    assert "manifest.auth: is required" in found and "manifest.api: is required" in found
    assert check_plugin([], DOCUMENT)[0].message == "is not a JSON object"


def test_operation_rules():
    document = copy.deepcopy(DOCUMENT)
    operation = document["paths"]["/a"]["get"]
    document["paths"]["/b"] = {"get": {**operation}}
    operation["x-openai-isConsequential"] = "yes"
    operation["description"] = "d" * 301
    found = problems(document=document)
    assert "GET /a: x-openai-isConsequential must be true or false" in found
    assert "GET /a: description is 301 characters; at most 300" in found
    assert any("repeats the operationId 'getA'" in line for line in found)


def test_shared_parameters_are_checked_through_refs():
    document = copy.deepcopy(DOCUMENT)
    document["components"] = {
        "parameters": {
            "Id": {
                "name": "id",
                "in": "path",
                "required": True,
                "description": "x" * 701,
                "schema": {"type": "string"},
            }
        }
    }
    document["paths"] = {
        "/a/{id}": {
            **document["paths"]["/a"],
            "parameters": [{"$ref": "#/components/parameters/Id"}],
        }
    }
    assert "GET /a/{id}: parameter id description is 701 characters; at most 700" in problems(
        document=document
    )


def test_documents_that_are_not_openapi_3():
    assert "openapi: is not a JSON or YAML object" in problems(document=["x"])
    old = {"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {}}
    found = problems(document=old)
    assert "openapi.openapi: must be 3.0.x or 3.1.x" in found
    assert "openapi.paths: lists no operations" in found
