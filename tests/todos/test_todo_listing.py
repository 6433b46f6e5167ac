"""Listing todos: search, the done filter, cursor pages, and the cost in SQL statements."""

from __future__ import annotations

import pytest

from plugin.extensions import db


def titles(page: dict) -> list[str]:
    return [item["title"] for item in page["items"]]


def test_newest_first_in_pages_that_join_up(api):
    for number in range(1, 8):
        api.create(f"Task {number}")
    first = api.get("/api/todos?limit=3").get_json()
    assert titles(first) == ["Task 7", "Task 6", "Task 5"]
    second = api.get(f"/api/todos?limit=3&cursor={first['next_cursor']}").get_json()
    assert titles(second) == ["Task 4", "Task 3", "Task 2"]
    last = api.get(f"/api/todos?limit=3&cursor={second['next_cursor']}").get_json()
    assert titles(last) == ["Task 1"]
    assert last["next_cursor"] is None


def test_exactly_one_full_page_has_no_next_cursor(api):
    for number in range(3):
        api.create(f"Task {number}")
    page = api.get("/api/todos?limit=3").get_json()
    assert len(page["items"]) == 3 and page["next_cursor"] is None


def test_default_page_is_20_and_large_limits_count_as_100(api, app, user):
    from plugin.accounts.models import User
    from plugin.todos.services import create_todo

    with app.app_context():
        owner = db.session.get(User, user.id)
        for number in range(105):
            create_todo(owner, f"Bulk {number}")
        db.session.commit()
    assert len(api.get("/api/todos").get_json()["items"]) == 20
    assert len(api.get("/api/todos?limit=500").get_json()["items"]) == 100


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=abc", "cursor=garbage!", "cursor=dDEyYQ", "done=maybe"]
)
def test_bad_parameters_are_refused_with_the_field_named(api, query):
    response = api.get(f"/api/todos?{query}")
    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == [query.split("=")[0]]


def test_search_matches_title_or_notes_in_any_case(api):
    api.create("Buy OAT milk")
    api.create("Call mum", notes="ask about the oatmeal recipe")
    api.create("Pay rent")
    found = api.get("/api/todos?q=oat").get_json()
    assert sorted(titles(found)) == ["Buy OAT milk", "Call mum"]
    assert titles(api.get("/api/todos?q=RENT").get_json()) == ["Pay rent"]


@pytest.mark.parametrize("query", ["äpfel", "ÄPFEL", "Äpfel", "straße", "ÉCOLE"])
def test_search_ignores_the_case_of_every_letter_not_only_a_to_z(api, query):
    api.create("ÄPFEL kaufen")
    api.create("Schild in der Straße", notes="nicht in der STRASSE")
    api.create("Rentrée à l'école", notes="Cahiers pour l'ÉCOLE")
    api.create("Apfelsaft")
    expected = {
        "äpfel": ["ÄPFEL kaufen"],
        "straße": ["Schild in der Straße"],
        "école": ["Rentrée à l'école"],
    }[query.lower()]
    assert titles(api.get("/api/todos", query_string={"q": query}).get_json()) == expected


def test_search_treats_wildcards_as_plain_text(api):
    api.create("Save 100% of the receipts")
    api.create("Save 100 receipts")
    api.create("snake_case names")
    api.create("snakeXcase names")
    assert titles(api.get("/api/todos?q=100%25").get_json()) == ["Save 100% of the receipts"]
    assert titles(api.get("/api/todos?q=snake_case").get_json()) == ["snake_case names"]


def test_done_filter(api):
    open_item = api.create("Still to do")
    done_item = api.create("Finished")
    api.patch(f"/api/todos/{done_item['id']}", json={"done": True})
    assert titles(api.get("/api/todos?done=true").get_json()) == ["Finished"]
    assert titles(api.get("/api/todos?done=false").get_json()) == [open_item["title"]]
    assert len(api.get("/api/todos").get_json()["items"]) == 2
