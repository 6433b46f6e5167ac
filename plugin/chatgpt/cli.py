"""``flask settings …`` for operator settings and ``flask check`` for ChatGPT's limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib import error, request
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from plugin.api.checks import FetchError, Finding, registered_checks
from plugin.chatgpt.check import check_plugin, parse_document
from plugin.chatgpt.settings import (
    FLAGS,
    SettingError,
    normalize_key,
    set_setting,
    stored_settings,
)
from plugin.database import commit

settings = AppGroup(
    "settings", help="Operator settings: OpenAI's verification tokens, admin rules."
)

MANIFEST_PATH = "/.well-known/ai-plugin.json"
FETCH_TIMEOUT = 15  # seconds: what ChatGPT allows itself for the manifest and the document


@settings.command("set")
@click.argument("key")
@click.argument("value")
def set_command(key: str, value: str) -> None:
    """Set KEY (openai-verification-token, openai-apps-challenge-token, or
    require-admin-passkeys on|off) to VALUE; an empty VALUE removes it."""
    try:
        stored = set_setting(key, value, actor=None)
    except SettingError as problem:
        raise click.ClickException(str(problem)) from None
    commit()
    if normalize_key(key) in FLAGS:
        click.echo(f"{key} is {'on' if stored else 'off'}.")
    else:
        click.echo(f"{key} {'set' if stored else 'removed'}.")


@settings.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show_command(as_json: bool) -> None:
    """Show each setting; secrets are shown only as whether they are set."""
    values = {name.replace("_", "-"): bool(value) for name, value in stored_settings().items()}
    if as_json:
        click.echo(json.dumps({name: {"set": is_set} for name, is_set in values.items()}))
        return
    for name, is_set in values.items():
        if normalize_key(name) in FLAGS:
            click.echo(f"{name}: {'on' if is_set else 'off'}")
        else:
            click.echo(f"{name}: {'set' if is_set else 'not set'}")


@click.command("check")
@with_appcontext
@click.argument("base_url", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
@click.option(
    "--connectors",
    is_flag=True,
    help="Replay what ChatGPT and Claude do before anyone signs in; ✔/✘ per step.",
)
@click.option(
    "--directory",
    is_flag=True,
    help="Print what OpenAI's and Anthropic's directory submissions ask for, and what a "
    "reviewer would reject.",
)
def check(base_url: str | None, as_json: bool, connectors: bool, directory: bool) -> None:
    """Lint the manifest and OpenAPI document against ChatGPT's limits.

    With BASE_URL the served plugin is fetched over HTTP; without it, this app is asked
    in-process. With --connectors, replay the discovery and registration steps of GPT
    Actions, ChatGPT apps and Claude connectors instead; with --directory, print the values
    the app directories' submission forms ask for. Exits 1 when anything would fail.
    """
    origin = (base_url or current_app.config["PLUGIN_BASE_URL"] or "http://localhost:5003").rstrip(
        "/"
    )
    if connectors:
        from plugin.chatgpt.connectors_cli import report_connectors

        report_connectors(origin, over_http=bool(base_url), as_json=as_json)
        return
    fetch = _fetch_http if base_url else _fetch_in_process
    if directory:
        _report_directory(fetch, origin, over_http=bool(base_url), as_json=as_json)
        return
    try:
        manifest = parse_document(fetch(origin + MANIFEST_PATH))
        api_url = (manifest.get("api") or {}).get("url") if isinstance(manifest, dict) else None
        if not isinstance(api_url, str) or not api_url:
            document: Any = None
        else:
            document = parse_document(
                fetch(api_url if base_url else origin + urlsplit(api_url).path)
            )
    except FetchError as problem:
        raise click.ClickException(str(problem)) from None
    findings = check_plugin(manifest, document)
    if isinstance(manifest, dict) and document is None:
        findings.append(Finding("manifest.api.url", "names no OpenAPI document to fetch"))
    for extra in registered_checks(current_app):
        try:
            findings += extra(fetch, origin)
        except FetchError as problem:
            raise click.ClickException(str(problem)) from None
    _report(origin + MANIFEST_PATH, findings, as_json)


def _report_directory(
    fetch: Callable[[str], str], origin: str, *, over_http: bool, as_json: bool
) -> None:
    from plugin.chatgpt.directory import collect
    from plugin.chatgpt.directory_report import as_document, report_lines

    found = collect(fetch, origin, over_http=over_http)
    if as_json:
        click.echo(json.dumps(as_document(found)))
    else:
        for line in report_lines(found):
            click.echo(line)
    if any(finding.severity == "error" for finding in found.findings):
        raise SystemExit(1)


def _fetch_http(url: str) -> str:
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"Not an http(s) URL: {url}")
    req = request.Request(url, headers={"Accept": "application/json, application/yaml, */*"})  # noqa: S310
    try:
        with request.urlopen(req, timeout=FETCH_TIMEOUT) as answer:  # noqa: S310 - scheme checked
            text: str = answer.read().decode()
            return text
    except error.HTTPError as answer:
        answer.close()
        raise FetchError(f"{url} answered {answer.code}") from None
    except (error.URLError, TimeoutError, OSError) as problem:
        reason = getattr(problem, "reason", problem)
        raise FetchError(f"Could not fetch {url}: {reason}") from None
    except UnicodeDecodeError:
        raise FetchError(f"{url} did not answer text") from None


def _fetch_in_process(url: str) -> str:
    parts = urlsplit(url)
    client = current_app.test_client()
    answer = client.get(parts.path, base_url=f"{parts.scheme}://{parts.netloc}")
    if answer.status_code != 200:
        raise FetchError(f"{parts.path} answered {answer.status_code}")
    return answer.get_data(as_text=True)


def _report(url: str, findings: list[Finding], as_json: bool) -> None:
    errors = [finding for finding in findings if finding.severity == "error"]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "url": url,
                    "ok": not errors,
                    "findings": [vars(finding) for finding in findings],
                }
            )
        )
    else:
        for finding in findings:
            click.echo(str(finding))
        if errors:
            click.echo(f"{len(errors)} problem(s) ChatGPT would refuse in {url}.")
        else:
            warnings = sum(finding.severity == "warning" for finding in findings)
            note = f" ({warnings} warning(s))" if warnings else ""
            click.echo(f"No problems found in {url}{note}.")
    if errors:
        raise SystemExit(1)
