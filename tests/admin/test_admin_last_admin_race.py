"""The last-admin rule holds when two admins remove (or disable) each other at the same moment."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from plugin.accounts.models import User
from plugin.extensions import db
from tests.helpers import AuthActions, csrf_token_from, make_user, post_at_once

ROUNDS = 6


def active_admins(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.is_admin, ~User.is_disabled)
        )


def race(app, action: str) -> list[int]:
    """Two admins each POST ``action`` on the other at once; return both statuses."""
    first = make_user(app, "first@example.com", is_admin=True)
    second = make_user(app, "second@example.com", is_admin=True)
    pairs = []
    for actor, target in ((first, second), (second, first)):
        http = app.test_client()
        assert AuthActions(http).login(actor.email).status_code == 303
        token = csrf_token_from(http.get(f"/admin/users/{target.id}").get_data(as_text=True))
        pairs.append((http, f"/admin/users/{target.id}/{action}", token))
    return post_at_once(pairs)


@pytest.mark.parametrize("action", ["admin/remove", "disable"])
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_admins_removing_each_other_leave_one_admin(app, action, round_):
    statuses = race(app, action)
    # One wins; the other is refused as the last admin (409), or, if the winner committed
    # before it was even let in, as no longer an admin (403) or no longer signed in (302).
    winner, loser = sorted(statuses, key=lambda status: status != 303)
    assert winner == 303 and loser in (302, 403, 409), statuses
    assert active_admins(app) == 1
