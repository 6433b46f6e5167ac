"""Note, write, find and prune connection traces (reading them for people: ``queries``).

A step is noted during the request and written once the request's own unit of work has
ended (``plugin.database.write_apart``): a failing request rolls its work back, and the step
that says why it failed must survive that. Outside a request a step is added and flushed,
and the command commits, as everywhere else.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request

from plugin.clock import utcnow
from plugin.connections.models import ConnectionTrace, TraceStep
from plugin.database import write_apart
from plugin.extensions import db

NOTES = "connection_trace_notes"
# A registration or metadata fetch is joined by the authorization request that follows
# within this time; a token request by the authorization it continues.
JOIN_WINDOW = timedelta(minutes=30)
MAX_STEPS = 100
# Failures of a client_id nobody registered (anyone can send one) start at most this many
# traces; later ones are counted in the newest.
MAX_TRACES_PER_UNKNOWN_CLIENT = 5
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
    # The client_id names no client here: its failures start only a few traces.
    unknown_client: bool = False


def note(step: Step) -> None:
    """Record ``step``: after the request's work ends, or at once (flushed) outside a request."""
    if has_request_context():
        if request.headers.get("User-Agent") == CHECK_AGENT:
            return
        if NOTES not in g:
            g.setdefault(NOTES, [])
            write_apart(_write_noted)
        g.get(NOTES).append(step)
    else:
        write_steps([step])


def _write_noted(succeeded: bool) -> None:
    steps: list[Step] = g.pop(NOTES, [])
    if not succeeded:
        # A request that failed in the end did not do what its successful steps said.
        steps = [step for step in steps if not step.ok]
    if steps:
        write_steps(steps)


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
        trace = _start(step)
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


def _newest_of_unknown_client(client_id: str) -> ConnectionTrace | None:
    """The newest trace of ``client_id`` once it has its quota of traces, else None."""
    newest = (
        sa.select(ConnectionTrace)
        .where(ConnectionTrace.client_id == client_id)
        .order_by(ConnectionTrace.id.desc())
    )
    traces = list(db.session.scalars(newest.limit(MAX_TRACES_PER_UNKNOWN_CLIENT)))
    return traces[0] if len(traces) >= MAX_TRACES_PER_UNKNOWN_CLIENT else None


def _start(step: Step) -> ConnectionTrace:
    key = step.key
    client_id = (key.client_id or "")[:255] or None
    if step.unknown_client and not step.ok and client_id:
        full = _newest_of_unknown_client(client_id)
        if full is not None:
            return full
    prune_expired(limit=PRUNE_BATCH)
    trace = ConnectionTrace(
        client_id=client_id,
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
