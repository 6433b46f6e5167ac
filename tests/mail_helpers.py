"""A real SMTP server for the tests (aiosmtpd on a free loopback port) and ways to read it."""

from __future__ import annotations

import re
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """Every message the SMTP server accepted, in order; ``url`` is the app's MAIL_URL."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self._arrived = threading.Condition()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp+insecure://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def start(self) -> None:
        # A stopped controller's event loop is closed: each start gets a new one.
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening: the app's next message finds the port closed (server down)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def wait_for(self, address: str, count: int = 1, timeout: float = 5) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.to(address)) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.to(address))} message(s) for {address}, not {count}"
                self._arrived.wait(left)
        return self.to(address)

    def last(self, address: str) -> EmailMessage:
        return self.wait_for(address)[-1]


def sending_to(mailbox: Mailbox) -> dict[str, str]:
    """Settings that make the app send real e-mail to ``mailbox``; the test client's links
    are on http://localhost."""
    return {"MAIL_URL": mailbox.url, "PLUGIN_BASE_URL": "http://localhost"}


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The path (with query) of the one link in the message that starts with ``path_prefix``."""
    links = {
        urlsplit(url)._replace(scheme="", netloc="").geturl()
        for url in re.findall(r"https?://[^\s\"<>]+", text_of(message))
    }
    (link,) = [link for link in links if link.startswith(path_prefix)]
    return link
