"""The current Flask request as Authlib reads it: query string for authorize, body elsewhere."""

from __future__ import annotations

from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from flask import request as flask_request
from werkzeug.datastructures import MultiDict

# Parameters that carry credentials: refused in a token-endpoint URL, where they would be logged.
URL_SECRETS = ("client_secret", "code", "refresh_token", "token", "code_verifier", "password")


class TokenRequestError(InvalidRequestError):
    """A token-endpoint body that cannot be read."""


class OAuthPayload(OAuth2Payload):
    def __init__(self, values: MultiDict[str, str]) -> None:
        self._values = values

    @property
    def data(self) -> MultiDict[str, str]:
        return self._values

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {key: self._values.getlist(key) for key in self._values}


class OAuthRequest(OAuth2Request):
    """The current Flask request as Authlib sees it.

    The authorization endpoint reads its parameters from the query string only (the consent
    form posts back to the same URL). The other endpoints read the body only, as a form or
    as JSON (ChatGPT sends either), so credentials in a URL are never used.
    """

    def __init__(self) -> None:
        super().__init__(flask_request.method, flask_request.url, headers=flask_request.headers)
        if flask_request.endpoint == "oauth.authorize":
            self._values: MultiDict[str, str] = MultiDict(flask_request.args)
        else:
            self._values = body_parameters()
        self.payload = OAuthPayload(self._values)

    @property
    def args(self) -> MultiDict[str, str]:
        return flask_request.args

    @property
    def form(self) -> MultiDict[str, str]:
        return self._values


def body_parameters() -> MultiDict[str, str]:
    """The endpoint's parameters from a form or JSON body; credentials in the URL are refused."""
    leaked = [name for name in URL_SECRETS if name in flask_request.args]
    if leaked:
        raise TokenRequestError(
            f"Send '{leaked[0]}' in the request body or an Authorization header, never in the URL."
        )
    if flask_request.mimetype == "application/json":
        data = flask_request.get_json(silent=True)
        if not isinstance(data, dict):
            raise TokenRequestError("The request body is not a JSON object.")
        values: MultiDict[str, str] = MultiDict()
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise TokenRequestError(f"'{key}' must be a string.")
            values.add(key, str(value))
        return values
    return MultiDict(flask_request.form)
