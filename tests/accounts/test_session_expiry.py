"""Server-side sessions over time: idle sessions expire, active ones are kept alive."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from plugin.accounts.models import UserSession
from plugin.clock import utcnow
from plugin.extensions import db


def _age_sessions(app, by: timedelta) -> None:
    with app.app_context():
        db.session.execute(sa.update(UserSession).values(last_seen_at=utcnow() - by))
        db.session.commit()


def _sessions(app) -> list[UserSession]:
    with app.app_context():
        return db.session.scalars(sa.select(UserSession)).all()


def test_a_session_idle_longer_than_its_lifetime_is_ended(app, auth, client, user):
    auth.login()
    _age_sessions(app, app.permanent_session_lifetime + timedelta(minutes=1))
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert _sessions(app) == []


def test_an_active_session_records_when_it_was_last_seen(app, auth, client, user):
    auth.login()
    _age_sessions(app, timedelta(hours=1))
    assert client.get("/account").status_code == 200
    (row,) = _sessions(app)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_logging_out_without_a_session_is_harmless(app, auth, client, user):
    auth.login()
    assert auth.logout().status_code == 303
    # A second log-out from the same, now anonymous, browser (another tab) just lands home.
    response = client.post("/logout", data={"csrf_token": auth.csrf("/login")})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert _sessions(app) == []
