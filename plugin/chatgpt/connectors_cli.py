"""How ``check --connectors`` reaches a deployment (HTTP or in-process) and prints its steps."""

from __future__ import annotations

import json
from typing import Any
from urllib import error, request
from urllib.parse import urlsplit

import click
from flask import current_app

from plugin.chatgpt.connectors import check_connectors
from plugin.chatgpt.connectors_run import Answer, Result, Unreachable
from plugin.connections.services import CHECK_AGENT

TIMEOUT = 15  # seconds per request, what ChatGPT allows itself


def http_transport(method: str, url: str, body: Any) -> Answer:
    if urlsplit(url).scheme not in ("http", "https"):
        raise Unreachable(url)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Accept": "application/json, */*", "User-Agent": CHECK_AGENT}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with request.urlopen(req, timeout=TIMEOUT) as answer:  # noqa: S310 - scheme checked
            return Answer(
                answer.status, dict(answer.headers), answer.read().decode(errors="replace")
            )
    except error.HTTPError as answer:
        with answer:
            return Answer(answer.code, dict(answer.headers), answer.read().decode(errors="replace"))
    except (error.URLError, TimeoutError, OSError):
        raise Unreachable(url) from None


def in_process_transport(method: str, url: str, body: Any) -> Answer:
    parts = urlsplit(url)
    client = current_app.test_client()
    answer = client.open(
        parts.path,
        method=method,
        json=body,
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        headers={"User-Agent": CHECK_AGENT},
    )
    return Answer(answer.status_code, dict(answer.headers), answer.get_data(as_text=True))


def format_results(results: list[Result]) -> list[str]:
    lines: list[str] = []
    group = None
    for result in results:
        if result.group != group:
            group = result.group
            lines.append(group)
        lines.append(f"  {result.mark} {result.step}: {result.detail}")
        if result.fix and result.mark != "✔":
            lines.append(f"      fix: {result.fix}")
    return lines


def report_connectors(origin: str, *, over_http: bool, as_json: bool) -> None:
    transport = http_transport if over_http else in_process_transport
    results = check_connectors(transport, origin)
    failed = [result for result in results if result.failed]
    if as_json:
        click.echo(
            json.dumps({"url": origin, "ok": not failed, "steps": [vars(r) for r in results]})
        )
    else:
        for line in format_results(results):
            click.echo(line)
        if failed:
            click.echo(f"{len(failed)} step(s) would fail for ChatGPT or Claude at {origin}.")
        else:
            click.echo(f"Every step ChatGPT and Claude take works at {origin}.")
    if failed:
        raise SystemExit(1)
