"""The OpenAPI document: valid, complete for ChatGPT, and generated from the views."""

from __future__ import annotations

import pytest
import yaml
from marshmallow import Schema, fields
from openapi_spec_validator import validate

from plugin.api.openapi import openapi_path
from plugin.api.operations import operations as registry

METHODS = ("get", "post", "patch", "put", "delete")


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "PLUGIN_BASE_URL": "https://todo.example.com"}


def operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_yaml_and_json_are_the_same_valid_document(client):
    as_yaml = client.get("/openapi.yaml")
    as_json = client.get("/openapi.json")
    assert as_yaml.status_code == as_json.status_code == 200
    assert as_json.mimetype == "application/json"
    document = yaml.safe_load(as_yaml.get_data(as_text=True))
    assert document == as_json.get_json()
    validate(document)
    assert document["openapi"] == "3.0.1"
    assert document["servers"] == [{"url": "https://todo.example.com"}]


def test_every_registered_operation_is_described_for_chatgpt(app, client):
    document = client.get("/openapi.json").get_json()
    found = {op["operationId"]: (method, path) for path, method, op in operations(document)}
    registered = registry(app)
    assert found == {
        item.operation.operation_id: (item.method.lower(), openapi_path(item.rule))
        for item in registered
    }
    # The sample's own operations are among them.
    assert {"listTodos", "createTodo", "getTodo", "updateTodo", "deleteTodo", "getMe"} <= set(found)
    for path, _, operation in operations(document):
        assert len(operation["summary"]) <= 300
        assert len(operation.get("description", "")) <= 300
        assert isinstance(operation["x-openai-isConsequential"], bool)
        assert operation["security"][0].keys() == {"oauth2"}
        assert "401" in operation["responses"] and "default" in operation["responses"]
        for parameter in operation.get("parameters", []) + document["paths"][path].get(
            "parameters", []
        ):
            assert 0 < len(parameter["description"]) <= 700
    consequential = {
        op["operationId"] for _, _, op in operations(document) if op["x-openai-isConsequential"]
    }
    assert consequential == {
        item.operation.operation_id for item in registered if item.operation.consequential
    }
    assert "deleteTodo" in consequential


def test_scopes_are_per_operation_and_the_scheme_points_at_the_oauth_endpoints(client):
    document = client.get("/openapi.json").get_json()
    scopes = {op["operationId"]: op["security"][0]["oauth2"] for _, _, op in operations(document)}
    assert scopes["listTodos"] == ["todos:read"]
    assert scopes["createTodo"] == ["todos:write"]
    assert scopes["deleteTodo"] == ["todos:write"]
    flow = document["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == "https://todo.example.com/oauth/authorize"
    assert flow["tokenUrl"] == "https://todo.example.com/oauth/token"
    assert flow["scopes"]["todos:read"] and flow["scopes"]["todos:write"]


def test_inputs_and_answers_are_documented_from_the_schemas(client):
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["CreateTodoBody"]["required"] == ["title"]
    assert schemas["CreateTodoBody"]["properties"]["title"]["maxLength"] == 200
    assert schemas["Todo"]["properties"]["due_date"]["nullable"] is True
    list_params = {p["name"] for p in document["paths"]["/api/todos"]["get"]["parameters"]}
    assert list_params == {"q", "done", "cursor", "limit"}
    delete = document["paths"]["/api/todos/{todo_id}"]["delete"]
    assert delete["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PendingConfirmation"
    }


def test_a_new_view_is_documented_by_declaring_it(other_app):
    """What docs/extending.md promises: a view, a schema and a scope are enough."""
    from plugin.api.operations import ApiBlueprint, api_operation

    class GreetingSchema(Schema):
        text = fields.String(required=True)

    bp = ApiBlueprint("greetings", __name__, url_prefix="/api")

    @bp.get("/greeting")
    @api_operation(
        "getGreeting", summary="Say hello.", scope="todos:read", responses={200: GreetingSchema}
    )
    def greeting():
        return {"text": "hello"}

    app = other_app()
    app.register_blueprint(bp)
    document = app.test_client().get("/openapi.json").get_json()
    operation = document["paths"]["/api/greeting"]["get"]
    assert operation["operationId"] == "getGreeting"
    assert operation["security"] == [{"oauth2": ["todos:read"]}]
    assert app.test_client().get("/api/greeting").status_code == 401
