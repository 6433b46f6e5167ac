"""The values a directory submission asks for, gathered with the problems found in them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from plugin.api.checks import Finding

CHALLENGE_PATH = "/.well-known/openai-apps-challenge"

Fetch = Callable[[str], str]


@dataclass
class Submission:
    """The values the submission forms ask for, and what is wrong with them."""

    origin: str
    mcp_url: str
    auth: str = "unknown"
    policies: dict[str, str] = field(default_factory=dict)
    contact: str | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    should_use: list[str] = field(default_factory=list)
    should_not_use: list[str] = field(default_factory=list)
    # None: no operation declares a UI, so there is no CSP to state.
    csp_domains: list[str] | None = None
    uis: list[dict[str, Any]] = field(default_factory=list)
    reviewers: list[str] | None = None
    findings: list[Finding] = field(default_factory=list)

    def problem(self, where: str, message: str, fix: str, severity: str = "error") -> None:
        self.findings.append(Finding(f"directory.{where}", f"{message} Fix: {fix}", severity))
