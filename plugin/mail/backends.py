"""An SMTP backend whose TLS checks the server's certificate.

Flask-Mailman's SMTP backend calls ``starttls()`` without a context, and smtplib then accepts
any certificate; a network attacker could read every reset link. This one verifies.
"""

from __future__ import annotations

import ssl
from typing import Any

from flask_mailman.backends.smtp import EmailBackend
from flask_mailman.utils import DNS_NAME


class TLSEmailBackend(EmailBackend):  # type: ignore[misc]  # Flask-Mailman ships no types
    connection: Any

    def open(self) -> bool | None:
        if self.connection:
            return False
        context = ssl.create_default_context()
        params: dict[str, Any] = {"local_hostname": DNS_NAME.get_fqdn()}
        if self.timeout is not None:
            params["timeout"] = self.timeout
        if self.use_ssl:
            params["context"] = context
        try:
            self.connection = self.connection_class(self.host, self.port, **params)
            if self.use_tls and not self.use_ssl:
                self.connection.starttls(context=context)
            if self.username and self.password:
                self.connection.login(self.username, self.password)
            return True
        except OSError:
            self.close_quietly()
            if not self.fail_silently:
                raise
            return None

    def close_quietly(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None
