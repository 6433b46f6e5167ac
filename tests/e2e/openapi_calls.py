"""Read the served OpenAPI document and check answers against what it documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import yaml
from openapi_schema_validator import OAS30Validator, OAS31Validator

from tests.e2e.chatgpt import ChatGPT, HttpResponse, http

METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict

    @property
    def operation_id(self) -> str:
        return self.spec["operationId"]

    def __str__(self) -> str:
        return f"{self.operation_id} ({self.method.upper()} {self.path})"


class ApiDocument:
    """The document at the manifest's ``api.url``, as ChatGPT fetches it."""

    def __init__(self, chatgpt: ChatGPT) -> None:
        self.chatgpt = chatgpt
        api = chatgpt.manifest["api"]
        assert api["type"] == "openapi", api
        answer = http("GET", api["url"], headers={"Accept": "*/*"})
        assert answer.status == 200, answer
        self.document: dict = yaml.safe_load(answer.body)
        assert self.document["openapi"].startswith("3."), self.document["openapi"]
        servers = self.document.get("servers") or []
        assert servers, "the document names no server"
        self.server = servers[0]["url"].rstrip("/")

    def operations(self) -> dict[str, Operation]:
        found = {}
        for path, item in self.document["paths"].items():
            for method in METHODS:
                if method in item:
                    operation = Operation(method, path, self.resolve(item[method]))
                    found[operation.operation_id] = operation
        return found

    def call(
        self,
        operation_id: str,
        token: str,
        status: int,
        *,
        path: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
    ) -> HttpResponse:
        """Call an operation as ChatGPT would; check the status and the answer's documentation."""
        operation = self.operations().get(operation_id)
        assert operation is not None, f"the document has no {operation_id} operation"
        url = self.server + fill_path(operation.path, path or {})
        if query:
            url += "?" + urlencode(query)
        answer = self.chatgpt.api(operation.method.upper(), url, token, body)
        assert answer.status == status, f"{operation}: expected {status}, got {answer}"
        self.check(operation, answer)
        return answer

    def resolve(self, node: Any) -> Any:
        """Follow a local ``$ref`` (``#/components/...``) to what it names."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def documented_response(self, operation: Operation, status: int) -> dict:
        responses = operation.spec["responses"]
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in responses:
                return self.resolve(responses[key])
        raise AssertionError(
            f"{operation} answered {status}, which it does not document ({sorted(responses)})"
        )

    def check(self, operation: Operation, answer: HttpResponse) -> None:
        """The answer's status, content type and body are what the document says."""
        documented = self.documented_response(operation, answer.status)
        content = documented.get("content") or {}
        if not content:
            assert not answer.body.strip(), f"{operation}: an undocumented body: {answer}"
            return
        assert answer.content_type in content, (
            f"{operation} answered {answer.status} with {answer.content_type!r}; "
            f"documented: {sorted(content)}"
        )
        schema = content[answer.content_type].get("schema")
        if schema is None:
            return
        validator_class = (
            OAS31Validator if self.document["openapi"].startswith("3.1") else OAS30Validator
        )
        # Local references resolve against this root, which carries the components.
        root = {"allOf": [schema], "components": self.document.get("components", {})}
        errors = sorted(validator_class(root).iter_errors(answer.json()), key=str)
        assert not errors, f"{operation} answered {answer.status} off its schema: {errors[0]}"


def fill_path(path: str, values: dict[str, Any]) -> str:
    """Put the values into the path template; a template may name an item's id either way."""
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    assert "{" not in path, f"no value for a parameter of {path}"
    return path


def item_path(item: dict) -> dict[str, Any]:
    return {"todo_id": item["id"], "id": item["id"]}
