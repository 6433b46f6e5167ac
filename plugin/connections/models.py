from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin.clock import utcnow
from plugin.extensions import Model

# A trace is "pending" until its first successful API or MCP call ("connected"), and
# "failed" while its newest step is a failure.
OUTCOMES = ("pending", "failed", "connected")


class TraceStep(Model):
    """One step of a trace; ``reason`` and ``fix`` are written for the operator."""

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
    def failure(self) -> TraceStep | None:
        """The newest failed step: the one that broke."""
        failed = [step for step in self.steps if not step.ok]
        return failed[-1] if failed else None
