"""What the OAuth tests share: building authorization requests, reading callbacks, pressing
Allow, client authentication and refreshes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.helpers import csrf_token_from


def basic(client_id: str, secret: str) -> dict[str, str]:
    value = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def authorize_url(oauth_client, **params) -> str:
    query = {
        "response_type": "code",
        "client_id": oauth_client.client_id,
        "redirect_uri": oauth_client.redirect_uri,
        "scope": "todos:read todos:write",
        "state": "xyz",
    }
    query.update(params)
    query = {key: value for key, value in query.items() if value is not None}
    return "/oauth/authorize?" + urlencode(query)


def callback_params(response) -> dict[str, str]:
    """The query of a redirect back to the client, one value per name."""
    assert response.status_code in (302, 303), (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    return {key: values[0] for key, values in parse_qs(urlsplit(response.location).query).items()}


def allow(http, url: str, decision: str = "allow"):
    """Open the consent page at ``url`` and press Allow (or Deny)."""
    page = http.get(url)
    assert page.status_code == 200, page.status_code
    token = csrf_token_from(page.get_data(as_text=True))
    return http.post(url, data={"csrf_token": token, "decision": decision})


def refresh(client, creds, refresh_token: str, **extra):
    return client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
        headers=basic(creds.client_id, creds.client_secret),
    )
