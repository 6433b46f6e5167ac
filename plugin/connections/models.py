from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin.clock import utcnow
from plugin.extensions import Model

# A trace is "pending" until its first successful API or MCP call ("connected"), and
# "failed" while its newest step is a failure.
OUTCOMES = ("pending", "failed", "connected")
# Clients exchange a code within seconds of receiving it; one still unexchanged after this
# never reached the client (or the client stopped waiting), and the trace reads as failed.
UNEXCHANGED_AFTER = timedelta(minutes=2)
# ChatGPT, Claude and desktop clients call (tools/list, the action) right after the token
# exchange; tokens unused after this never reached the server with a call.
UNUSED_AFTER = timedelta(minutes=5)
NO_CALL = (
    "no call arrived: a proxy or CDN may be blocking the host — user agents ChatGPT-User, "
    "Claude-User"
)


class TraceStep(Model):
    """One step of a trace; ``reason`` and ``fix`` are written for the operator.

    A successful step's ``fix`` says what to check if the trace stops there (the code step:
    why a client might never exchange it).
    """

    __tablename__ = "connection_trace_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    trace_id: Mapped[int] = mapped_column(
        sa.ForeignKey("connection_traces.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    step: Mapped[str] = mapped_column(sa.String(40))
    ok: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(sa.Text)
    fix: Mapped[str | None] = mapped_column(sa.Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # The same step failing the same way again (a client retrying) counts here, not as rows.
    repeats: Mapped[int] = mapped_column(default=1)


class ConnectionTrace(Model):
    """One authorization attempt. Correlated by digests and ids only, never by a secret."""

    __tablename__ = "connection_traces"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    client_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    client_name: Mapped[str | None] = mapped_column(sa.String(100))
    user_id: Mapped[int | None] = mapped_column(index=True)
    # Copied so that the trace outlives the account, as in the audit log.
    user_email: Mapped[str | None] = mapped_column(sa.String(254))
    # The resource the tokens are for (``https://host/mcp``); None is the API (/api).
    audience: Mapped[str | None] = mapped_column(sa.String(255))
    # Correlation keys: SHA-256 of the authorization request's state and of the code, and
    # the token family; each exists before the next one does.
    state_digest: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    code_digest: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    family_id: Mapped[str | None] = mapped_column(sa.String(32), index=True)

    steps: Mapped[list[TraceStep]] = relationship(
        order_by=TraceStep.id, cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def unexchanged_code(self) -> TraceStep | None:
        """The failure a code amounts to once it has waited ``UNEXCHANGED_AFTER`` in vain
        (a step shown, never stored)."""
        if self.outcome != "pending" or not self.code_digest or self.family_id or not self.steps:
            return None
        if self.updated_at > utcnow() - UNEXCHANGED_AFTER:
            return None
        sent = self.steps[-1]
        minutes = int(UNEXCHANGED_AFTER.total_seconds() // 60)
        return _shown_failure(
            sent.step,
            f"code sent, never exchanged: {sent.reason or 'sent'}, and no token request "
            f"followed within {minutes} minutes",
            after=sent,
            waited=UNEXCHANGED_AFTER,
        )

    @property
    def unused_token(self) -> TraceStep | None:
        """The failure tokens amount to once ``UNUSED_AFTER`` passed with no call using them
        (a step shown, never stored)."""
        if self.outcome != "pending" or not self.family_id or not self.steps:
            return None
        if self.updated_at > utcnow() - UNUSED_AFTER:
            return None
        issued = self.steps[-1]
        minutes = int(UNUSED_AFTER.total_seconds() // 60)
        call = "MCP call" if (self.audience or "").endswith("/mcp") else "API call"
        return _shown_failure(
            call,
            f"{NO_CALL} (tokens issued at {issued.at:%H:%M} UTC; no {call} used them "
            f"within {minutes} minutes)",
            after=issued,
            waited=UNUSED_AFTER,
        )

    @property
    def stalled(self) -> TraceStep | None:
        """A code never exchanged, or tokens never used: where the client went quiet."""
        return self.unexchanged_code or self.unused_token

    @property
    def status(self) -> str:
        """The outcome as shown: a trace that stalled reads as failed, not pending."""
        return "failed" if self.stalled is not None else self.outcome

    @property
    def shown_steps(self) -> list[TraceStep]:
        """The stored steps, and the stalled step after them if there is one."""
        stalled = self.stalled
        return [*self.steps, stalled] if stalled is not None else list(self.steps)

    @property
    def failure(self) -> TraceStep | None:
        """The newest failed step: the one that broke."""
        failed = [step for step in self.shown_steps if not step.ok]
        return failed[-1] if failed else None


def stalled_clause(now: datetime) -> sa.ColumnElement[bool]:
    """SQL for ``ConnectionTrace.stalled is not None``, for filtering."""
    unexchanged = sa.and_(
        ConnectionTrace.code_digest.is_not(None),
        ConnectionTrace.family_id.is_(None),
        ConnectionTrace.updated_at <= now - UNEXCHANGED_AFTER,
    )
    unused = sa.and_(
        ConnectionTrace.family_id.is_not(None),
        ConnectionTrace.updated_at <= now - UNUSED_AFTER,
    )
    return sa.and_(ConnectionTrace.outcome == "pending", sa.or_(unexchanged, unused))


def _shown_failure(step: str, reason: str, *, after: TraceStep, waited: timedelta) -> TraceStep:
    """A failed step a trace amounts to once ``waited`` passed after ``after`` with nothing
    following: shown, never stored; its fix is the one ``after`` carries."""
    return TraceStep(
        step=step,
        ok=False,
        reason=reason,
        fix=after.fix,
        details=None,
        at=after.at + waited,
        repeats=1,
    )
