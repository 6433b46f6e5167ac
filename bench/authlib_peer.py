"""The peer: a plain Flask + Authlib app doing getMe's work the way Authlib's example server does.

Written for this benchmark in the style of Authlib's example (``website/models.py``,
``website/oauth2.py``, ``website/routes.py``): Flask-SQLAlchemy models on Authlib's
``OAuth2ClientMixin`` / ``OAuth2TokenMixin``, the validator ``create_bearer_token_validator``
builds, a ``ResourceProtector``, and ``GET /api/me`` answering the token's user. Token values
are stored as given, as in the example; nothing checks disabled users or clients, there is no
request log, no security header and no rate limit. Its tables have their own names, so it
shares the benchmark's database with the app.

    gunicorn bench.authlib_peer:app -c gunicorn.conf.py     (DATABASE_URL as for the app)
"""

from __future__ import annotations

import os
import secrets
import time

from authlib.integrations.flask_oauth2 import ResourceProtector, current_token
from authlib.integrations.sqla_oauth2 import (
    OAuth2ClientMixin,
    OAuth2TokenMixin,
    create_bearer_token_validator,
)
from flask import Blueprint, Flask, jsonify
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


require_oauth = ResourceProtector()
require_oauth.register_token_validator(create_bearer_token_validator(db.session, OAuth2Token)())


@bp.route("/api/me")
@require_oauth("profile")
def api_me():
    user = current_token.user
    return jsonify(id=user.id, username=user.username)


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


def create_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url or os.environ["DATABASE_URL"]
    db.init_app(app)
    app.register_blueprint(bp)
    return app


def seed(app: Flask, *, users: int) -> list[str]:
    """Create the peer's tables, ``users`` people, a client and one token each; return them."""
    with app.app_context():
        db.create_all()
        people = [User(username=f"peer{n}-{secrets.token_hex(4)}") for n in range(users)]
        db.session.add_all(people)
        db.session.flush()
        client = OAuth2Client(
            user_id=people[0].id,
            client_id=secrets.token_urlsafe(16),
            client_id_issued_at=int(time.time()),
        )
        client.set_client_metadata({"scope": "profile", "grant_types": ["authorization_code"]})
        db.session.add(client)
        values = [secrets.token_urlsafe(32) for _ in people]
        db.session.add_all(
            OAuth2Token(
                client_id=client.client_id,
                user_id=person.id,
                token_type="Bearer",  # noqa: S106
                access_token=value,
                scope="profile",
                issued_at=int(time.time()),
                expires_in=86_400,
            )
            for person, value in zip(people, values, strict=True)
        )
        db.session.commit()
        return values


app = create_app() if "DATABASE_URL" in os.environ else None
