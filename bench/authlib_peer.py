"""The peer: a plain Flask + Authlib app doing the app's work the way Authlib's example does.

Written for this benchmark in the style of Authlib's example server (``website/models.py``,
``website/oauth2.py``, ``website/routes.py``): Flask-SQLAlchemy models on Authlib's
``OAuth2ClientMixin`` / ``OAuth2TokenMixin``, the validator ``create_bearer_token_validator``
builds, a ``ResourceProtector``, an ``AuthorizationServer`` with the example's
``RefreshTokenGrant`` and ``create_save_token_func``. It answers ``GET /api/me`` (getMe's
work), ``GET /api/todos`` (a page of 20 of the token's user's todos, as plain dicts: listTodos'
work) and ``POST /oauth/token`` with ``grant_type=refresh_token`` (the refresh grant's work,
the old token revoked, a new pair stored). Token values and the client secret are stored as
given, as in the example; nothing checks disabled users or clients, there is no reuse
detection, audit record, request log, security header or rate limit. Its tables have their
own names, so it shares the benchmark's database with the app.

    gunicorn bench.authlib_peer:app -c gunicorn.conf.py     (DATABASE_URL as for the app)
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from authlib.integrations.flask_oauth2 import (
    AuthorizationServer,
    ResourceProtector,
    current_token,
)
from authlib.integrations.sqla_oauth2 import (
    OAuth2ClientMixin,
    OAuth2TokenMixin,
    create_bearer_token_validator,
    create_query_client_func,
    create_save_token_func,
)
from authlib.oauth2.rfc6749 import grants
from flask import Blueprint, Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
bp = Blueprint("home", __name__)


class User(db.Model):
    __tablename__ = "peer_user"

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(40), unique=True)

    def get_user_id(self):
        return self.id


class OAuth2Client(db.Model, OAuth2ClientMixin):
    __tablename__ = "peer_oauth2_client"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("peer_user.id", ondelete="CASCADE"))
    user = db.relationship("User")


class OAuth2Token(db.Model, OAuth2TokenMixin):
    __tablename__ = "peer_oauth2_token"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("peer_user.id", ondelete="CASCADE"))
    user = db.relationship("User")


def _now():
    return datetime.now(UTC).replace(tzinfo=None)


class Todo(db.Model):
    __tablename__ = "peer_todo"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("peer_user.id", ondelete="CASCADE"), index=True)
    title = db.Column(db.String(200), nullable=False)
    notes = db.Column(db.Text, nullable=False, default="")
    done = db.Column(db.Boolean, nullable=False, default=False)
    due_date = db.Column(db.Date)
    share_token = db.Column(db.String(43), unique=True, default=lambda: secrets.token_urlsafe(32))
    created_at = db.Column(db.DateTime, nullable=False, default=_now)
    updated_at = db.Column(db.DateTime, nullable=False, default=_now)

    def to_dict(self, url_prefix):
        return {
            "id": self.id,
            "title": self.title,
            "notes": self.notes,
            "done": self.done,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "url": url_prefix + self.share_token,
            "created_at": self.created_at.isoformat() + "Z",
            "updated_at": self.updated_at.isoformat() + "Z",
        }


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        token = OAuth2Token.query.filter_by(refresh_token=refresh_token).first()
        if token and not token.is_revoked():
            return token
        return None

    def authenticate_user(self, credential):
        return db.session.get(User, credential.user_id)

    def revoke_old_credential(self, credential):
        now = int(time.time())
        credential.access_token_revoked_at = now
        credential.refresh_token_revoked_at = now
        db.session.add(credential)
        db.session.commit()


authorization = AuthorizationServer(
    query_client=create_query_client_func(db.session, OAuth2Client),
    save_token=create_save_token_func(db.session, OAuth2Token),
)
authorization.register_grant(RefreshTokenGrant)
require_oauth = ResourceProtector()
require_oauth.register_token_validator(create_bearer_token_validator(db.session, OAuth2Token)())


@bp.route("/api/me")
@require_oauth("profile")
def api_me():
    user = current_token.user
    return jsonify(id=user.id, username=user.username)


@bp.route("/api/todos")
@require_oauth("profile")
def api_todos():
    page = (
        Todo.query.filter_by(user_id=current_token.user_id).order_by(Todo.id.desc()).limit(20).all()
    )
    prefix = request.host_url + "t/"
    return jsonify(items=[todo.to_dict(prefix) for todo in page], next_cursor=None)


@bp.route("/oauth/token", methods=["POST"])
def issue_token():
    return authorization.create_token_response()


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ["DATABASE_URL"]
    app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True  # as the example sets it
    db.init_app(app)
    authorization.init_app(app)
    app.register_blueprint(bp)
    return app


@dataclass
class Seeded:
    access_tokens: list[str]  # one per person
    basic: str  # the client's HTTP Basic credentials, base64


def seed(app: Flask, *, users: int, todos_per_user: int = 50) -> Seeded:
    """Create the peer's tables, ``users`` people with their todos, a confidential client and
    one access token each."""
    with app.app_context():
        db.create_all()
        people = [User(username=f"peer{n}-{secrets.token_hex(4)}") for n in range(users)]
        db.session.add_all(people)
        db.session.flush()
        secret = secrets.token_urlsafe(32)
        client = OAuth2Client(
            user_id=people[0].id,
            client_id=secrets.token_urlsafe(16),
            client_id_issued_at=int(time.time()),
            client_secret=secret,
        )
        client.set_client_metadata(
            {
                "scope": "profile",
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "client_secret_basic",
            }
        )
        db.session.add(client)
        db.session.add_all(
            Todo(user_id=person.id, title=f"Todo {n}", notes="Something to remember.")
            for person in people
            for n in range(todos_per_user)
        )
        values = [secrets.token_urlsafe(32) for _ in people]
        db.session.add_all(
            _token(client, person, value) for person, value in zip(people, values, strict=True)
        )
        db.session.commit()
        basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
        return Seeded(values, basic)


def refresh_pool(app: Flask, count: int) -> list[str]:
    """``count`` fresh refresh tokens of the peer's people, each good for one grant."""
    with app.app_context():
        client = db.session.scalar(db.select(OAuth2Client))
        people = db.session.scalars(db.select(User)).all()
        values = [secrets.token_urlsafe(32) for _ in range(count)]
        db.session.add_all(
            _token(client, people[n % len(people)], secrets.token_urlsafe(32), refresh=value)
            for n, value in enumerate(values)
        )
        db.session.commit()
        return values


def _token(client, person, access_token, refresh=None):
    return OAuth2Token(
        client_id=client.client_id,
        user_id=person.id,
        token_type="Bearer",  # noqa: S106
        access_token=access_token,
        refresh_token=refresh,
        scope="profile",
        issued_at=int(time.time()),
        expires_in=86_400,
    )


app = create_app() if "DATABASE_URL" in os.environ else None
