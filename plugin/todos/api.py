"""The todo API ChatGPT calls. Each view declares itself once with ``@api_operation``."""

from __future__ import annotations

from typing import Any

from flask import abort

from plugin.api.context import caller_region
from plugin.api.operations import ApiBlueprint, ExamplePrompts, OperationUi, api_operation
from plugin.confirmations.schemas import PendingConfirmationSchema
from plugin.confirmations.services import pending_confirmation
from plugin.database import commit
from plugin.inputs import MAX_ID
from plugin.oauth.resources.protect import current_token
from plugin.todos import services
from plugin.todos.models import Todo
from plugin.todos.schemas import (
    CreateTodoBody,
    Cursor,
    ListTodosQuery,
    MeSchema,
    TodoPageSchema,
    TodoSchema,
    UpdateTodoBody,
)

READ = "todos:read"
WRITE = "todos:write"

# What the directories' reviewers try: requests these operations should answer, and
# requests that are not about the person's todo list (``flask check --directory``).
EXAMPLE_PROMPTS = ExamplePrompts(
    should_use=(
        "What's on my todo list?",
        "Add 'renew passport' to my todos, due next Friday.",
        "Which of my todos are still open?",
        "Mark the dentist appointment todo as done.",
        "Rename my 'buy milk' todo to 'buy oat milk and coffee'.",
        "Delete the todo about watering the plants.",
        "Do I have anything due this week?",
    ),
    should_not_use=(
        "What's the capital of Australia?",
        "Write a haiku about autumn.",
        "Set a timer for ten minutes.",
        "Summarise this article for me.",
    ),
)

bp = ApiBlueprint(
    "todos_api",
    __name__,
    url_prefix="/api",
    scopes={
        READ: "See your todo list",
        WRITE: "Add, change and delete todos (deleting always asks you first)",
    },
    example_prompts=EXAMPLE_PROMPTS,
)

# Every <int:…> stops at MAX_ID (plugin/inputs.py); naming both bounds here also puts them
# into the OpenAPI document.
ITEM_PATH = f"/todos/<int(min=1, max={MAX_ID}):todo_id>"
TODO_ID = {"todo_id": "The item's id, from listTodos or createTodo."}
TAGS = ("todos",)
# The person's list in the conversation (MCP Apps), shown with each answer that changes it.
LIST_UI = OperationUi("todos/ui/list.html", title="Your todo list")


def _owned_todo(todo_id: int) -> Todo:
    todo = services.get_todo(current_token.user_id, todo_id)
    if todo is None:
        abort(404, "No todo with that id.")
    return todo


@bp.get("/todos")
@api_operation(
    "listTodos",
    summary="List or search the person's todos, newest first.",
    description=(
        "Filter by words in the title or notes (q) and by done. Answers one page; pass "
        "next_cursor back as cursor for the next one. Use it to find an item's id by its words."
    ),
    scope=READ,
    query=ListTodosQuery,
    responses={200: TodoPageSchema},
    tags=TAGS,
    ui=LIST_UI,
)
def list_todos(query: dict[str, Any]) -> dict[str, Any]:
    items, last_id = services.list_todos(
        current_token.user_id,
        q=query.get("q"),
        done=query.get("done"),
        before_id=query.get("cursor"),
        limit=query["limit"],
    )
    return {"items": items, "next_cursor": Cursor.encode(last_id) if last_id else None}


@bp.post("/todos")
@api_operation(
    "createTodo",
    summary="Add a todo to the person's list.",
    description="Only title is required. Answers the new item with its id and url.",
    scope=WRITE,
    body=CreateTodoBody,
    responses={201: TodoSchema},
    tags=TAGS,
    ui=LIST_UI,
)
def create_todo(body: dict[str, Any]) -> tuple[Todo, int]:
    todo = services.create_todo(current_token.user, body["title"], body["notes"], body["due_date"])
    commit()
    return todo, 201


@bp.get(ITEM_PATH)
@api_operation(
    "getTodo",
    summary="Read one todo by id.",
    scope=READ,
    responses={200: TodoSchema},
    path_params=TODO_ID,
    tags=TAGS,
)
def get_todo(todo_id: int) -> Todo:
    return _owned_todo(todo_id)


@bp.patch(ITEM_PATH)
@api_operation(
    "updateTodo",
    summary="Change a todo: its title, notes, due date, or mark it done or open again.",
    description="Send only the fields to change.",
    scope=WRITE,
    body=UpdateTodoBody,
    responses={200: TodoSchema},
    path_params=TODO_ID,
    tags=TAGS,
    ui=LIST_UI,
)
def update_todo(todo_id: int, body: dict[str, Any]) -> Todo:
    todo = services.update_todo(_owned_todo(todo_id), body)
    commit()
    return todo


@bp.delete(ITEM_PATH)
@api_operation(
    "deleteTodo",
    summary="Ask to delete a todo; the person must confirm on the page at confirm_url.",
    description=(
        "Nothing is deleted by this call. Give confirm_url to the person and say the item is "
        "deleted only once they confirm there; read the outcome with getActionStatus."
    ),
    scope=WRITE,
    consequential=True,
    responses={202: PendingConfirmationSchema},
    path_params=TODO_ID,
    tags=TAGS,
)
def delete_todo(todo_id: int) -> tuple[dict[str, Any], int]:
    todo = _owned_todo(todo_id)
    answer = pending_confirmation(
        services.DELETE_OPERATION,
        {"todo_id": todo.id, "title": todo.title},
        current_token.user,
        current_token.client,
    )
    commit()
    return answer


@bp.get("/me")
@api_operation(
    "getMe",
    summary="Who is signed in, their region, and how many todos they have open and done.",
    scope=READ,
    responses={200: MeSchema},
    tags=("account",),
)
def get_me() -> dict[str, Any]:
    return {**services.profile(current_token.user_id), "region": caller_region()}
