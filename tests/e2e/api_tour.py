"""Call every operation of the served OpenAPI document, as ChatGPT would.

The requests come from a small script keyed by the sample's operationIds (an item to create,
the change to make...); paths and methods come from the document itself, and every answer is
checked against it. Operations the script does not know (a feature you added) are called by
the schema-driven run in test_api_fuzz.py, which tries every operation the document lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.e2e.chatgpt import HttpResponse
from tests.e2e.openapi_calls import ApiDocument, item_path

NEW_TODO = {"title": "Buy oat milk", "notes": "The barista kind.", "due_date": "2031-01-31"}


@dataclass
class Tour:
    document: ApiDocument
    token: str
    answers: dict[str, HttpResponse] = field(default_factory=dict)
    created: dict = field(default_factory=dict)

    def call(self, operation_id: str, status: int, **request: Any) -> Any:
        answer = self.document.call(operation_id, self.token, status, **request)
        self.answers[operation_id] = answer
        return answer.json() if answer.body.strip() else None


def call_every_operation(document: ApiDocument, token: str) -> Tour:
    tour = Tour(document, token)

    me = tour.call("getMe", 200)
    assert me["email"], me

    tour.created = tour.call("createTodo", 201, body=NEW_TODO)
    for key in ("title", "notes", "due_date"):
        assert tour.created[key] == NEW_TODO[key], tour.created
    assert tour.created["done"] is False, tour.created
    other = tour.call("createTodo", 201, body={"title": "Call the plumber"})

    listed = tour.call("listTodos", 200, query={"q": "oat"})
    assert [item["id"] for item in items_of(listed)] == [tour.created["id"]], listed

    fetched = tour.call("getTodo", 200, path=item_path(tour.created))
    assert fetched["id"] == tour.created["id"] and fetched["url"] == tour.created["url"], fetched

    updated = tour.call("updateTodo", 200, path=item_path(tour.created), body={"done": True})
    assert updated["done"] is True, updated
    listed = tour.call("listTodos", 200, query={"done": "true"})
    assert [item["id"] for item in items_of(listed)] == [tour.created["id"]], listed

    pending = tour.call("deleteTodo", 202, path=item_path(other))
    assert pending["status"] == "pending_confirmation", pending
    assert pending["confirm_url"].startswith(document.chatgpt.base_url + "/"), pending
    # Nothing happens before the owner confirms.
    tour.call("getTodo", 200, path=item_path(other))
    for operation_id in action_operations(document):
        status = tour.call(operation_id, 200, path=action_path(pending))
        assert status["status"] == "pending_confirmation", status

    return tour


def items_of(listed: Any) -> list[dict]:
    """The items of a list answer, whether it is a bare array or a page object."""
    if isinstance(listed, list):
        return listed
    arrays = [value for value in listed.values() if isinstance(value, list)]
    assert len(arrays) == 1, f"no single list of items in {listed}"
    return arrays[0]


def action_operations(document: ApiDocument) -> list[str]:
    """Operations that read a pending action's status (GET …/actions/{id} or similar)."""
    return [
        operation_id
        for operation_id, operation in document.operations().items()
        if operation.method == "get"
        and "action" in operation.path.lower()
        and "{" in operation.path
    ]


def action_path(pending: dict) -> dict[str, Any]:
    action_id = next(pending[key] for key in ("action_id", "id", "public_id") if key in pending)
    return {name: action_id for name in ("action_id", "id", "public_id")}
