"""Deleting through ChatGPT: nothing happens until the signed-in owner confirms on the page."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from plugin.audit.models import AuditEvent
from plugin.clock import utcnow
from plugin.confirmations.models import PendingAction
from plugin.extensions import db
from tests.helpers import csrf_token_from, make_token, make_user
from tests.todos.todo_helpers import Api


@pytest.fixture
def api(client, token) -> Api:
    return Api(client, token)


def request_delete(api: Api, title: str = "Return the library books") -> tuple[dict, dict]:
    item = api.create(title)
    response = api.delete(f"/api/todos/{item['id']}")
    assert response.status_code == 202
    return item, response.get_json()


def local(url: str) -> str:
    return url.removeprefix("http://localhost")


def shown_on(html: str) -> str:
    """The fingerprint of the summary a confirm page showed (its hidden field)."""
    match = re.search(r'name="shown" value="([^"]*)"', html)
    return match.group(1) if match else ""


def decide(client, pending: dict, decision: str):
    """Open the confirm page and press a button, sending the form as a browser would."""
    html = client.get(local(pending["confirm_url"])).get_data(as_text=True)
    return client.post(
        local(pending["confirm_url"]),
        data={"decision": decision, "csrf_token": csrf_token_from(html), "shown": shown_on(html)},
    )


def action_status(api: Api, pending: dict) -> str:
    return api.get(local(pending["status_url"])).get_json()["status"]


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.event == name)))


def test_delete_waits_for_the_owner_then_happens_once(app, client, auth, api, user):
    item, pending = request_delete(api)
    assert pending["status"] == "pending_confirmation"
    assert pending["confirm_url"].startswith("http://localhost/confirm/")
    assert pending["expires_at"].endswith("+00:00")
    assert api.get(f"/api/todos/{item['id']}").status_code == 200
    assert action_status(api, pending) == "pending_confirmation"

    auth.login(user.email)
    page = client.get(local(pending["confirm_url"]))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Delete the todo “Return the library books”" in html
    assert re.search(r"<button[^>]*>Confirm</button>", html)
    assert re.search(r"<button[^>]*>Cancel</button>", html)

    answer = decide(client, pending, "confirm")
    assert answer.status_code == 303
    outcome = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Confirmed" in outcome and ">Confirm</button>" not in outcome

    assert api.get(f"/api/todos/{item['id']}").status_code == 404
    status = api.get(local(pending["status_url"])).get_json()
    assert status["status"] == "confirmed"
    assert status["result"] == {"deleted": True, "todo_id": item["id"]}
    assert [e.details["operation"] for e in events(app, "action.confirmed")] == ["todos.delete"]

    # The spent link confirms nothing more.
    again = client.post(
        local(pending["confirm_url"]),
        data={"decision": "confirm", "csrf_token": csrf_token_from(outcome)},
    )
    assert again.status_code == 303
    assert "already decided" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(events(app, "action.confirmed")) == 1


def test_cancel_keeps_the_item(app, client, auth, api, user):
    item, pending = request_delete(api)
    auth.login(user.email)
    answer = decide(client, pending, "cancel")
    assert answer.status_code == 303
    assert "Cancelled" in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert api.get(f"/api/todos/{item['id']}").status_code == 200
    assert action_status(api, pending) == "cancelled"
    assert len(events(app, "action.cancelled")) == 1
    # Cancelled is final: confirming afterwards does nothing.
    decide(client, pending, "confirm")
    assert api.get(f"/api/todos/{item['id']}").status_code == 200


def test_signed_out_visitor_is_sent_to_log_in_and_back(client, api):
    _, pending = request_delete(api)
    response = client.get(local(pending["confirm_url"]))
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert (
        "%2Fconfirm%2F" in response.headers["Location"]
        or "/confirm/" in response.headers["Location"]
    )


def test_someone_else_cannot_see_or_confirm(app, client, auth, api):
    item, pending = request_delete(api)
    make_user(app, "intruder@example.com")
    auth.login("intruder@example.com")
    assert client.get(local(pending["confirm_url"])).status_code == 404
    token = auth.csrf("/account")
    posted = client.post(
        local(pending["confirm_url"]), data={"decision": "confirm", "csrf_token": token}
    )
    assert posted.status_code == 404
    assert api.get(f"/api/todos/{item['id']}").status_code == 200


def test_another_person_cannot_read_the_action_status(app, client, api, oauth_client):
    _, pending = request_delete(api)
    other = make_user(app, "other@example.com")
    other_api = Api(client, make_token(app, other, oauth_client)["access_token"])
    assert other_api.get(local(pending["status_url"])).status_code == 404
    assert other_api.get("/api/actions/unknown").status_code == 404


def test_expired_link_does_nothing(app, client, auth, api, user):
    item, pending = request_delete(api)
    with app.app_context():
        db.session.execute(
            sa.update(PendingAction).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert action_status(api, pending) == "expired"
    auth.login(user.email)
    page = client.get(local(pending["confirm_url"])).get_data(as_text=True)
    assert "This link has expired" in page
    assert ">Confirm</button>" not in page
    posted = client.post(
        local(pending["confirm_url"]),
        data={"decision": "confirm", "csrf_token": csrf_token_from(page)},
    )
    assert posted.status_code == 303
    assert api.get(f"/api/todos/{item['id']}").status_code == 200


def test_form_without_csrf_token_is_refused(client, auth, api, user):
    item, pending = request_delete(api)
    auth.login(user.email)
    response = client.post(local(pending["confirm_url"]), data={"decision": "confirm"})
    assert response.status_code == 400
    assert api.get(f"/api/todos/{item['id']}").status_code == 200


def test_unknown_decision_is_refused(client, auth, api, user):
    item, pending = request_delete(api)
    auth.login(user.email)
    assert decide(client, pending, "maybe").status_code == 400
    assert action_status(api, pending) == "pending_confirmation"


def test_item_already_gone_reports_failure(app, client, auth, api, user):
    item, first = request_delete(api)
    second = api.delete(f"/api/todos/{item['id']}").get_json()
    auth.login(user.email)
    decide(client, first, "confirm")
    answer = decide(client, second, "confirm")
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "could not be done" in page
    assert action_status(api, second) == "failed"


def test_two_confirmations_at_once_delete_once(app, api, user):
    from plugin.accounts.models import User
    from plugin.confirmations import services

    _, pending = request_delete(api)
    token = pending["confirm_url"].rsplit("/", 1)[1]
    outcomes: list[bool] = []
    barrier = threading.Barrier(4)

    def confirm_in_thread() -> None:
        with app.app_context():
            owner = db.session.get(User, user.id)
            action = services.find_by_token(token, owner)
            barrier.wait()
            outcomes.append(services.confirm(action, owner))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=confirm_in_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == [False, False, False, True]
    assert len(events(app, "action.confirmed")) == 1


def test_the_page_shows_the_item_as_it_is_now(client, auth, api, user):
    item, pending = request_delete(api, "old duplicate")
    assert api.patch(f"/api/todos/{item['id']}", {"title": "Tax documents"}).status_code == 200
    auth.login(user.email)
    html = client.get(local(pending["confirm_url"])).get_data(as_text=True)
    assert "Delete the todo “Tax documents”" in html
    assert "old duplicate" not in html


def test_a_rename_after_the_page_was_shown_stops_the_confirmation(client, auth, api, user):
    item, pending = request_delete(api, "old duplicate")
    auth.login(user.email)
    html = client.get(local(pending["confirm_url"])).get_data(as_text=True)
    assert "Delete the todo “old duplicate”" in html
    # Renamed while the person reads the page: pressing Confirm must not delete it.
    assert api.patch(f"/api/todos/{item['id']}", {"title": "Tax documents"}).status_code == 200
    answer = client.post(
        local(pending["confirm_url"]),
        data={"decision": "confirm", "csrf_token": csrf_token_from(html), "shown": shown_on(html)},
    )
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "changed since the page was shown" in page and "Tax documents" in page
    assert api.get(f"/api/todos/{item['id']}").status_code == 200
    assert action_status(api, pending) == "pending_confirmation"
    # Confirming what is shown now works.
    assert decide(client, pending, "confirm").status_code == 303
    assert api.get(f"/api/todos/{item['id']}").status_code == 404
