"""Signing a person in: the one way every login ends, whatever proved who they are."""

from __future__ import annotations

from werkzeug.wrappers import Response

from plugin.accounts.models import User
from plugin.accounts.sessions import login_user
from plugin.accounts.throttle import remember_device
from plugin.audit.services import record
from plugin.database import commit


def sign_in(user: User, response: Response, *, method: str = "password") -> Response:
    """Sign ``user`` in on this browser and answer with ``response``.

    A fresh session id (the old one ends), the ``user.login`` event naming ``method``, and
    the cookie that marks this browser as one the person signs in with. The caller has
    already refused a disabled account and chosen where the person goes next.
    """
    login_user(user, method=method)
    record("user.login", actor=user, subject=f"user:{user.id}", method=method)
    commit()
    remember_device(response, user.email)
    return response
