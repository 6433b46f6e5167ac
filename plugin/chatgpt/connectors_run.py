"""What a connector replay runs on: the transport it asks through, and the results it keeps."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

BASE_FIX = "Set PLUGIN_BASE_URL to the public https origin people and ChatGPT reach."


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


# (method, url, JSON body or None) -> the answer; never raises for an HTTP status.
Transport = Callable[[str, str, Any], Answer]


class Unreachable(Exception):
    """The deployment did not answer at all."""


@dataclass
class Result:
    group: str
    step: str
    mark: str  # "✔", "✘" or "!"
    detail: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.mark == "✘"


@dataclass
class Run:
    transport: Transport
    origin: str
    results: list[Result] = field(default_factory=list)

    def get(self, url: str) -> Answer | None:
        try:
            return self.transport("GET", url, None)
        except Unreachable:
            return None

    def post(self, url: str, body: Any) -> Answer | None:
        try:
            return self.transport("POST", url, body)
        except Unreachable:
            return None

    def add(self, group: str, step: str, ok: bool | None, detail: str, fix: str = "") -> None:
        mark = "✔" if ok else "!" if ok is None else "✘"
        self.results.append(Result(group, step, mark, detail, fix or None))


def status(answer: Answer | None) -> str:
    return "nothing (unreachable)" if answer is None else str(answer.status)
