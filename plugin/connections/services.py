"""Note, write, find and prune connection traces.

A step is noted during the request and written when the request's own unit of work has
ended (``teardown_request``): a failing request rolls its work back, and the step that
says why it failed must survive that. Outside a request a step is added and flushed, and
the command commits, as everywhere else.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from plugin.clock import utcnow
from plugin.connections.models import ConnectionTrace, TraceStep, unexchanged_clause
from plugin.database import commit, discard_work
from plugin.extensions import db

log = logging.getLogger(__name__)

NOTES = "connection_trace_notes"
STATUS = "connection_trace_status"
# A registration or metadata fetch is joined by the authorization request that follows
# within this time; a token request by the authorization it continues.
JOIN_WINDOW = timedelta(minutes=30)
MAX_STEPS = 100
# Pruning on write deletes at most this many traces at a time, so no request pays much.
PRUNE_BATCH = 100
# ``flask check --connectors`` probes with this agent; its deliberate failures are no install.
CHECK_AGENT = "flask-check-connectors"
CONNECTED_CACHE = "plugin.connections.connected_families"
CONNECTED_CACHE_SIZE = 10_000


@dataclass
class TraceKey:
    """What finds a step's trace: the code's digest, the token family, or client and state."""

    client_id: str | None = None
    state_digest: str | None = None
    code_digest: str | None = None
    family_id: str | None = None


@dataclass
class Step:
    name: str
    ok: bool
    key: TraceKey
    reason: str | None = None
    fix: str | None = None
    details: dict[str, Any] | None = None
    # Facts learnt at this step: client_name, user_id, user_email, audience, code_digest,
    # family_id.
    facts: dict[str, Any] = field(default_factory=dict)
    # The first successful call: it ends a trace, and never starts one.
    connects: bool = False


def init_app(app: Flask) -> None:
    app.after_request(_remember_status)
    app.teardown_request(_write_noted)


def note(step: Step) -> None:
    """Record ``step``: after the request ends, or at once (flushed) outside a request."""
    if has_request_context():
        if request.headers.get("User-Agent") == CHECK_AGENT:
            return
        g.setdefault(NOTES, []).append(step)
    else:
        write_steps([step])


def _remember_status(response: Response) -> Response:
    if NOTES in g:
        g.setdefault(STATUS, response.status_code)
    return response


def _write_noted(error: BaseException | None) -> None:
    steps: list[Step] = g.pop(NOTES, [])
    if not steps:
        return
    if error is not None or g.get(STATUS, 500) >= 400:
        # A request that failed in the end did not do what its successful steps said.
        steps = [step for step in steps if not step.ok]
    if not steps:
        return
    try:
        # The request's unit of work has been committed or discarded by now.
        discard_work()
        write_steps(steps)
        commit()
    except SQLAlchemyError as problem:
        discard_work()
        log.warning("connection trace not saved: %s", type(problem).__name__)


def _connected_families() -> OrderedDict[str, None]:
    cache: OrderedDict[str, None] = current_app.extensions.setdefault(
        CONNECTED_CACHE, OrderedDict()
    )
    return cache


def is_known_connected(family_id: str) -> bool:
    """Tell whether this process has already seen the family's first call (no query)."""
    return family_id in _connected_families()


def _mark_connected(family_id: str) -> None:
    cache = _connected_families()
    cache[family_id] = None
    cache.move_to_end(family_id)
    while len(cache) > CONNECTED_CACHE_SIZE:
        cache.popitem(last=False)


def _open(statement: sa.Select[ConnectionTrace]) -> ConnectionTrace | None:
    return db.session.scalar(
        statement.where(ConnectionTrace.outcome != "connected")
        .order_by(ConnectionTrace.id.desc())
        .limit(1)
    )


def find_trace(key: TraceKey, *, join_open: bool = True) -> ConnectionTrace | None:
    """The unfinished trace ``key`` continues, or None."""
    select = sa.select(ConnectionTrace)
    if key.code_digest:
        found = _open(select.where(ConnectionTrace.code_digest == key.code_digest))
        if found is not None:
            return found
    if key.family_id:
        # A token's trace is its family's, never another open attempt of the same client.
        return _open(select.where(ConnectionTrace.family_id == key.family_id))
    if not key.client_id:
        return None
    by_client = select.where(ConnectionTrace.client_id == key.client_id)
    if key.state_digest:
        found = _open(by_client.where(ConnectionTrace.state_digest == key.state_digest))
        if found is not None:
            return found
    if not join_open:
        return None
    recent = by_client.where(
        ConnectionTrace.updated_at >= utcnow() - JOIN_WINDOW,
        ConnectionTrace.family_id.is_(None),
    )
    if key.state_digest or not key.code_digest:
        # A new authorization request joins only a trace that has no request of its own yet.
        recent = recent.where(ConnectionTrace.state_digest.is_(None))
    return _open(recent)


def write_steps(steps: list[Step]) -> None:
    """Add ``steps`` to their traces (starting traces as needed); flush."""
    for step in steps:
        _write(step)
    db.session.flush()


def _write(step: Step) -> None:
    trace = find_trace(step.key, join_open=not step.connects)
    if trace is None:
        if step.connects:
            # A family seen for the first time without an authorization here (tokens made
            # by a script, or a trace already pruned): nothing to finish.
            if step.key.family_id:
                _mark_connected(step.key.family_id)
            return
        trace = _start(step.key)
    now = utcnow()
    for name, value in step.facts.items():
        if value is not None:
            setattr(trace, name, value)
    if step.key.state_digest and trace.state_digest is None:
        trace.state_digest = step.key.state_digest
    last = trace.steps[-1] if trace.steps else None
    if last is not None and (last.step, last.ok, last.reason) == (step.name, step.ok, step.reason):
        last.repeats += 1
        last.at = now
    elif len(trace.steps) < MAX_STEPS:
        trace.steps.append(
            TraceStep(
                step=step.name,
                ok=step.ok,
                reason=step.reason,
                fix=step.fix,
                details=step.details or None,
                at=now,
            )
        )
    trace.updated_at = now
    if step.connects:
        trace.outcome = "connected"
        if trace.family_id:
            _mark_connected(trace.family_id)
    else:
        trace.outcome = "pending" if step.ok else "failed"


def _start(key: TraceKey) -> ConnectionTrace:
    prune_expired(limit=PRUNE_BATCH)
    trace = ConnectionTrace(
        client_id=(key.client_id or "")[:255] or None,
        state_digest=key.state_digest,
        code_digest=key.code_digest,
        family_id=key.family_id,
    )
    db.session.add(trace)
    return trace


def retention() -> timedelta:
    return timedelta(days=current_app.config["CONNECTION_TRACE_DAYS"])


def prune_expired(*, limit: int | None = None) -> int:
    """Delete traces untouched for longer than ``CONNECTION_TRACE_DAYS``; return how many.

    ``limit`` bounds one call (pruning on write); the CLI prunes everything.
    """
    old = (
        sa.select(ConnectionTrace.id)
        .where(ConnectionTrace.updated_at < utcnow() - retention())
        .order_by(ConnectionTrace.id)
    )
    if limit is not None:
        old = old.limit(limit)
    ids = list(db.session.scalars(old))
    if not ids:
        return 0
    # Steps first: SQLite enforces the cascade only with its foreign_keys pragma on.
    db.session.execute(sa.delete(TraceStep).where(TraceStep.trace_id.in_(ids)))
    db.session.execute(sa.delete(ConnectionTrace).where(ConnectionTrace.id.in_(ids)))
    return len(ids)


def forget_person(user_id: int, email: str) -> None:
    """Erase a deleted account's address from its traces; the attempts stay, anonymous."""
    db.session.execute(
        sa.update(ConnectionTrace)
        .where(sa.or_(ConnectionTrace.user_id == user_id, ConnectionTrace.user_email == email))
        .values(user_email=None)
    )


def query_traces(
    *,
    client: str | None = None,
    person: str | None = None,
    outcome: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[ConnectionTrace]:
    """Traces newest first, with their steps; the admin page and the CLI share this.

    ``client`` is the exact client_id or part of its name; ``person`` part of an email.
    """
    statement = sa.select(ConnectionTrace).options(selectinload(ConnectionTrace.steps))
    if client:
        text = client.strip()
        statement = statement.where(
            (ConnectionTrace.client_id == text)
            | sa.func.lower(ConnectionTrace.client_name).contains(text.lower(), autoescape=True)
        )
    if person:
        statement = statement.where(
            sa.func.lower(ConnectionTrace.user_email).contains(
                person.strip().lower(), autoescape=True
            )
        )
    # A code never exchanged counts as failed, though its stored outcome is still pending.
    stalled = unexchanged_clause(utcnow())
    if outcome == "failed":
        statement = statement.where((ConnectionTrace.outcome == "failed") | stalled)
    elif outcome == "pending":
        statement = statement.where(ConnectionTrace.outcome == "pending", sa.not_(stalled))
    elif outcome:
        statement = statement.where(ConnectionTrace.outcome == outcome)
    if before_id is not None:
        statement = statement.where(ConnectionTrace.id < before_id)
    statement = statement.order_by(ConnectionTrace.id.desc()).limit(max(0, limit))
    return list(db.session.scalars(statement))


def count_failed(client_id: str) -> int:
    """How many of the client's kept traces ended failed (a code never exchanged included)."""
    statement = sa.select(sa.func.count()).where(
        ConnectionTrace.client_id == client_id,
        (ConnectionTrace.outcome == "failed") | unexchanged_clause(utcnow()),
    )
    return db.session.scalar(statement) or 0


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds") + "Z"


def trace_as_dict(trace: ConnectionTrace) -> dict[str, Any]:
    failure = trace.failure
    return {
        "id": trace.id,
        "started": _iso(trace.started_at),
        "updated": _iso(trace.updated_at),
        "outcome": trace.status,
        "client_id": trace.client_id,
        "client_name": trace.client_name,
        "user": trace.user_email,
        "audience": trace.audience,
        "failed_step": failure.step if failure else None,
        "reason": failure.reason if failure else None,
        "fix": failure.fix if failure else None,
        "steps": [
            {
                "time": _iso(step.at),
                "step": step.step,
                "ok": step.ok,
                "reason": step.reason,
                "fix": step.fix,
                "repeats": step.repeats,
                "details": step.details or {},
            }
            for step in trace.shown_steps
        ],
    }
