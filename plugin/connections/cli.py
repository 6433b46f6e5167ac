"""`flask connections tail|prune`: the newest connection traces, and removing expired ones."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from plugin.connections.models import OUTCOMES, ConnectionTrace
from plugin.connections.queries import query_traces, trace_as_dict
from plugin.connections.services import prune_expired
from plugin.database import commit
from plugin.terminal import print_tail, tail_options

connections = AppGroup("connections", help="Read the connection traces (install attempts).")

MARKS = {"connected": "✔", "failed": "✘", "pending": "…"}


def format_trace(trace: ConnectionTrace) -> list[str]:
    """The trace's headline, then one line per step; a failure with its fix.

    Names, ids and reasons come from whoever sent the request: print each line through
    ``plugin.terminal.echo`` so that none can forge a line or drive the terminal.
    """
    who = trace.user_email or "nobody signed in"
    client = trace.client_name or trace.client_id or "unknown client"
    where = trace.audience or "/api"
    lines = [
        f"{MARKS.get(trace.status, '?')} #{trace.id} {trace.started_at:%Y-%m-%d %H:%M:%S} UTC  "
        f"{trace.status}  {client} ({trace.client_id or '-'})  {who}  for {where}"
    ]
    for step in trace.shown_steps:
        repeated = f" ×{step.repeats}" if step.repeats > 1 else ""
        text = f": {step.reason}" if step.reason else ""
        lines.append(
            f"    {'✔' if step.ok else '✘'} {step.at:%H:%M:%S} {step.step}{repeated}{text}"
        )
        if not step.ok and step.fix:
            lines.append(f"        fix: {step.fix}")
    return lines


@connections.command("tail")
@tail_options("traces", default=10, most=1000)
@click.option("--failed", is_flag=True, help="Only failed traces (codes never exchanged too).")
@click.option("--client", help="Only this client_id, or clients whose name contains this.")
@click.option("--person", help="Only people whose email contains this.")
def tail_command(
    count: int, failed: bool, client: str | None, person: str | None, as_json: bool
) -> None:
    """Show the newest traces, oldest first, each with its steps."""
    print_tail(
        query_traces(
            client=client, person=person, outcome="failed" if failed else None, limit=count
        ),
        as_json=as_json,
        as_dict=trace_as_dict,
        lines=format_trace,
        empty="No failed connections." if failed else "No connection attempts yet.",
    )


@connections.command("prune")
def prune_command() -> None:
    """Delete traces older than CONNECTION_TRACE_DAYS."""
    removed = prune_expired()
    commit()
    click.echo(f"Removed {removed} expired connection trace{'' if removed == 1 else 's'}.")


__all__ = ["OUTCOMES", "connections"]
