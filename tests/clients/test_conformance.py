"""The official MCP conformance suite against ``/mcp``, and its authorization-server scenarios.

Both pinned releases run: 0.1.x (stable) and 0.2.0 (the 2026-07-28 scenarios and the
authorization ones). The suite sends no token, so the server's public origin is a proxy that
adds one. Each scenario's outcome is compared whole: every check id by status. A check that
fails only because it presupposes the suite's own fixture server (tools named ``test_*``,
prompts, resource templates) is expected with its reason; the scenarios that are nothing but
such checks are listed in docs/testing.md as not applicable and not run.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.clients.client_helpers import log_in_on_the_way, node
from tests.helpers import make_user
from tests.oauth.connector_helpers import desktop_registration
from tests.servers import free_port

STABLE = "@modelcontextprotocol/conformance/dist/index.js"
NEXT = "conformance-next/dist/index.js"
NEEDS_FIXTURE_TOOL = "Not testable: server does not list the diagnostic tool"

# scenario -> status -> check ids; FAILURE maps each id to words its message must contain.
NEXT_SCENARIOS: dict[str, dict[str, Any]] = {
    "server-initialize": {
        "SUCCESS": {"server-initialize", "wire-schema-valid"},
        "INFO": {"server-session-id-visible-ascii"},
    },
    "ping": {"SUCCESS": {"ping", "wire-schema-valid"}},
    "tools-list": {"SUCCESS": {"tools-list", "tools-name-format", "wire-schema-valid"}},
    "server-stateless": {
        "SUCCESS": {
            "sep-2575-discover-capabilities-match-handlers",
            "sep-2575-http-server-error-jsonrpc-id",
            "sep-2575-http-server-header-mismatch-400",
            "sep-2575-http-server-meta-invalid-400",
            "sep-2575-http-server-method-not-found-404",
            "sep-2575-http-server-method-not-found-404-initialize",
            "sep-2575-http-server-method-not-found-404-logging-setlevel",
            "sep-2575-http-server-method-not-found-404-ping",
            "sep-2575-http-server-method-not-found-404-resources-subscribe",
            "sep-2575-http-server-method-not-found-404-resources-unsubscribe",
            "sep-2575-http-server-unsupported-version-400",
            "sep-2575-request-meta-client-info-optional",
            "sep-2575-request-meta-invalid-missing-client-capabilities",
            "sep-2575-request-meta-invalid-missing-meta",
            "sep-2575-request-meta-invalid-missing-protocol-version",
            "sep-2575-server-declares-prompts-in-discover",
            "sep-2575-server-identifies-in-result-meta",
            "sep-2575-server-implements-discover",
            "sep-2575-server-unsupported-version-error",
        },
        # Probes that call the suite's fixture tools (test_missing_capability,
        # test_streaming_elicitation, test_logging_tool); the suite marks them untestable.
        "FAILURE": {
            "sep-2575-server-rejects-undeclared-capability": NEEDS_FIXTURE_TOOL,
            "sep-2575-missing-capability-http-400": "test_missing_capability",
            "sep-2575-http-server-no-independent-requests-on-stream": NEEDS_FIXTURE_TOOL,
            "sep-2575-server-no-log-without-loglevel": NEEDS_FIXTURE_TOOL,
        },
        # subscriptions/listen streams: a stateless JSON server offers none.
        "SKIPPED": {
            "sep-2575-server-honors-notification-filter",
            "sep-2575-server-sends-prompts-list-changed-on-subscription",
            "sep-2575-server-sends-subscription-ack",
            "sep-2575-server-sends-tools-list-changed-on-subscription",
            "sep-2575-server-tags-subscription-id",
        },
    },
    "http-header-validation": {
        "SUCCESS": {
            "sep-2243-header-name-case-insensitive",
            "sep-2243-server-accepts-whitespace-header-value",
            "sep-2243-server-reject-error-code",
            "sep-2243-server-reject-invalid-headers",
            "wire-schema-valid",
        }
    },
    "dns-rebinding-protection": {
        "SUCCESS": {"localhost-host-rebinding-rejected", "localhost-host-valid-accepted"}
    },
    "resources-list": {"SUCCESS": {"resources-list", "wire-schema-valid"}},
    "caching": {
        "SUCCESS": {
            "sep-2549-cache-scope-valid",
            "sep-2549-resources-list-caching-hints",
            "sep-2549-resources-read-caching-hints",
            "sep-2549-tools-list-caching-hints",
            "sep-2549-ttl-non-negative",
            "wire-schema-valid",
        },
        # The server offers no prompts and no resource templates: nothing to cache.
        "FAILURE": {
            "sep-2549-prompts-list-caching-hints": "Method not found",
            "sep-2549-resources-templates-list-caching-hints": "Method not found",
        },
    },
    "sep-2164-resource-not-found": {
        "SUCCESS": {
            "sep-2164-data-uri",
            "sep-2164-error-code",
            "sep-2164-no-empty-contents",
            "wire-schema-valid",
        }
    },
    # Stateless (no MCP-Session-Id): the suite reports its lifecycle checks do not apply.
    "server-session-lifecycle": {"INFO": {"server-session-lifecycle-skipped"}},
    "input-required-result-unsupported-methods": {
        "SUCCESS": {"sep-2322-not-on-unsupported-requests", "wire-schema-valid"}
    },
}
STABLE_SCENARIOS: dict[str, dict[str, Any]] = {
    "server-initialize": {"SUCCESS": {"server-initialize"}},
    "ping": {"SUCCESS": {"ping"}},
    "tools-list": {"SUCCESS": {"tools-list"}},
    "dns-rebinding-protection": {
        "SUCCESS": {"localhost-host-rebinding-rejected", "localhost-host-valid-accepted"}
    },
    "resources-list": {"SUCCESS": {"resources-list"}},
}
RUNS = [(STABLE, name) for name in STABLE_SCENARIOS] + [(NEXT, name) for name in NEXT_SCENARIOS]


def checks_of(folder: Path) -> list[dict[str, Any]]:
    """The checks.json the suite wrote for its one scenario under ``folder``."""
    (result,) = [path for path in folder.rglob("checks.json")]
    return list(json.loads(result.read_text()))


def outcome(checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Check ids by status, in the shape of the tables above."""
    found: dict[str, Any] = {}
    for check in checks:
        if check["status"] == "FAILURE":
            found.setdefault("FAILURE", {})[check["id"]] = check.get("errorMessage") or ""
        else:
            found.setdefault(check["status"], set()).add(check["id"])
    return found


@pytest.mark.parametrize(("package", "scenario"), RUNS, ids=[f"{p[:4]}-{s}" for p, s in RUNS])
def test_server_scenario(node_clients, proxy, mcp_token, tmp_path, package, scenario):
    answer = node(
        node_clients,
        package,
        "server",
        "--url",
        proxy.url + "/mcp",
        "--scenario",
        scenario,
        "-o",
        str(tmp_path),
    )
    found = outcome(checks_of(tmp_path))
    wanted = (STABLE_SCENARIOS if package == STABLE else NEXT_SCENARIOS)[scenario]
    failures = found.pop("FAILURE", {})
    assert found == {status: ids for status, ids in wanted.items() if status != "FAILURE"}
    expected_failures = wanted.get("FAILURE", {})
    assert set(failures) == set(expected_failures), failures
    for check_id, words in expected_failures.items():
        assert words in failures[check_id], (check_id, failures[check_id])
    assert answer.returncode == (1 if expected_failures else 0), answer.stdout[-2000:]
    # Every request went through with the token: the suite met the server, not a 401.
    assert proxy.seen, "the suite sent nothing"


def test_authorization_server_scenarios(node_clients, proxy, app, page, tmp_path):
    """Metadata, then a whole authorization-code grant (PKCE, resource, iss) as a public
    client registered by DCR, the person logging in and allowing in Chromium."""
    make_user(app, "conformance@example.com")
    port = free_port()
    registered = requests.post(
        proxy.url + "/oauth/register",
        json=desktop_registration(f"http://127.0.0.1:{port}/callback", "Conformance"),
        timeout=10,
    ).json()
    run = subprocess.Popen(
        [
            str(node_clients / ".bin" / "node"),
            str(node_clients / NEXT),
            "authorization",
            "--url",
            proxy.url,
            "--client-id",
            registered["client_id"],
            "--resource",
            proxy.url + "/mcp",
            "-p",
            str(port),
            "-o",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert run.stdout is not None
        printed = []
        for line in run.stdout:
            printed.append(line)
            if line.startswith(proxy.url + "/oauth/authorize?"):
                break
        else:
            raise AssertionError("".join(printed))
        log_in_on_the_way(page, line.strip(), "conformance@example.com")
        rest, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, "".join(printed) + rest
    found = outcome([check for folder in tmp_path.iterdir() for check in checks_of(folder)])
    assert found == {
        "SUCCESS": {
            "authorization-server-metadata",
            "authorization-server-metadata-cimd",
            "authorization-code-grant",
        }
    }, found
