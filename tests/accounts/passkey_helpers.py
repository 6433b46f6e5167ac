"""A software passkey for the tests, and the steps a page takes with it.

``SoftPasskey`` is what a browser and its authenticator send the site: an EC P-256 key,
"none" attestation, and the JSON a browser posts for ``navigator.credentials.create()`` and
``.get()``, built byte for byte as WebAuthn §6.1 lays the authenticator data out, so the
site's real checks (py_webauthn) run on every answer. ``PasskeyActions`` takes the steps
static/passkeys.js takes, with the test client.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, encode_cbor

from tests.helpers import PASSWORD, csrf_token_from

USER_PRESENT = 0x01
USER_VERIFIED = 0x04
ATTESTED_CREDENTIAL = 0x40


def _b64(data: bytes) -> str:
    return bytes_to_base64url(data)


@dataclass
class SoftPasskey:
    """One passkey held by an authenticator; ``origin`` is where its browser says it is."""

    origin: str = "http://localhost"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0
    # Synced passkeys keep no counter and always say 0.
    counting: bool = True
    user_handle: bytes | None = None

    @property
    def id(self) -> str:
        return _b64(self.credential_id)

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        # kty EC2, alg ES256, crv P-256, x, y (RFC 9053).
        return encode_cbor(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def create(self, options: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """The browser's answer to ``navigator.credentials.create({publicKey: options})``."""
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        auth_data = (
            hashlib.sha256(options["rp"]["id"].encode()).digest()
            + bytes([USER_PRESENT | USER_VERIFIED | ATTESTED_CREDENTIAL])
            + self.sign_count.to_bytes(4, "big")
            + bytes(16)  # AAGUID: none given
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self._cose_key()
        )
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": _b64(client_data),
                "attestationObject": _b64(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """The browser's answer to ``navigator.credentials.get({publicKey: options})``."""
        if sign_count is not None:
            self.sign_count = sign_count
        elif self.counting:
            self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (
            hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
            + bytes([USER_PRESENT | USER_VERIFIED])
            + self.sign_count.to_bytes(4, "big")
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        response = {
            "clientDataJSON": _b64(client_data),
            "authenticatorData": _b64(auth_data),
            "signature": _b64(signature),
        }
        if self.user_handle is not None:
            response["userHandle"] = _b64(self.user_handle)
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
        }


class PasskeyActions:
    """Sign up with a passkey, add one and sign in with one through the site's real JSON
    steps, as static/passkeys.js does: options, the authenticator's answer, then the
    verification."""

    def __init__(self, client) -> None:
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        return csrf_token_from(self.client.get(path).get_data(as_text=True))

    def post(self, path: str, body: Any, token: str | None = None, page: str = "/login"):
        headers = {"X-CSRFToken": token if token is not None else self.csrf(page)}
        return self.client.post(path, json=body, headers=headers)

    def add_options(self, name: str = "", token: str | None = None, password: str = PASSWORD):
        """Ask to add a passkey, typing the account's password as the form asks."""
        body = {"name": name, "password": password}
        return self.post("/account/passkeys/options", body, token, page="/account")

    def add(self, passkey: SoftPasskey, name: str = "Laptop", **answer: Any):
        token = self.csrf("/account")
        options = self.add_options(name, token)
        assert options.status_code == 200, options.get_json()
        credential = passkey.create(options.get_json()["options"], **answer)
        return self.post("/account/passkeys", {"credential": credential}, token)

    def signup_options(self, email: str, token: str | None = None):
        return self.post("/signup/passkey/options", {"email": email}, token, page="/signup")

    def sign_up(self, passkey: SoftPasskey, email: str, next: str | None = None, **answer: Any):
        """Sign up with ``passkey`` alone, as the sign-up page's "Sign up with a passkey"."""
        token = self.csrf("/signup")
        options = self.signup_options(email, token)
        assert options.status_code == 200, options.get_json()
        credential = passkey.create(options.get_json()["options"], **answer)
        return self.post("/signup/passkey", {"credential": credential, "next": next}, token)

    def login_options(self, token: str | None = None) -> dict[str, Any]:
        response = self.post("/login/passkey/options", {}, token)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["options"]

    def sign_in(self, passkey: SoftPasskey, next: str | None = None, **answer: Any):
        token = self.csrf()
        credential = passkey.get(self.login_options(token), **answer)
        return self.post("/login/passkey", {"credential": credential, "next": next}, token)
