"""How ``flask check --directory`` shows a ``Submission``: terminal lines, or one JSON object."""

from __future__ import annotations

from typing import Any

from plugin.chatgpt.directory_submission import CHALLENGE_PATH, Submission


def report_lines(found: Submission) -> list[str]:
    """The submission values and findings as the terminal shows them."""
    facts = [
        ("MCP server URL", found.mcp_url),
        ("Authentication", found.auth),
        ("Privacy policy", found.policies.get("privacy", "")),
        ("Terms of use", found.policies.get("terms", "")),
        ("Support", f"{found.policies.get('support', '')} (contact: {found.contact or 'none'})"),
        ("Domain verification", found.origin + CHALLENGE_PATH),
        ("UI CSP domains", _csp_domains(found.csp_domains)),
    ]
    if found.reviewers is not None:
        facts.append(("Reviewer account", ", ".join(found.reviewers) or "none"))
    lines = [f"Directory submission for {found.origin}"]
    lines += [f"  {label:<20} {value}" for label, value in facts]
    lines += ["", "Tools (annotations, each with its justification)"]
    for tool in found.tools:
        hints = tool["annotations"]
        values = " ".join(f"{name}={str(h['value']).lower()}" for name, h in hints.items())
        lines.append(f"  {tool['name']}: {values}")
        lines += [f"    {name}: {h['why']}" for name, h in hints.items()]
    if found.uis:
        lines += ["", "UIs (MCP Apps): each a ui:// resource, its size and its CSP"]
        lines += [f"  {ui['template']}: {_served(ui)}" for ui in found.uis]
    lines += ["", "Example prompts that should use the app"]
    lines += [f"  - {prompt}" for prompt in found.should_use] or ["  (none)"]
    lines += ["", "Example prompts that should not use it"]
    lines += [f"  - {prompt}" for prompt in found.should_not_use] or ["  (none)"]
    if found.findings:
        lines.append("")
        lines += [str(finding) for finding in found.findings]
    errors = sum(finding.severity == "error" for finding in found.findings)
    warnings = len(found.findings) - errors
    lines.append("")
    if errors:
        lines.append(f"{errors} problem(s) a directory reviewer would reject.")
    else:
        note = f" ({warnings} warning(s))" if warnings else ""
        lines.append(f"Ready to submit{note}.")
    return lines


def as_document(found: Submission) -> dict[str, Any]:
    """The same as one JSON-ready object."""
    return {
        "origin": found.origin,
        "ok": not any(finding.severity == "error" for finding in found.findings),
        "mcp_url": found.mcp_url,
        "auth": found.auth,
        "policies": found.policies,
        "contact": found.contact,
        "domain_verification_url": found.origin + CHALLENGE_PATH,
        "csp_domains": found.csp_domains,
        "uis": found.uis,
        "reviewers": found.reviewers,
        "tools": found.tools,
        "example_prompts": {
            "should_use": found.should_use,
            "should_not_use": found.should_not_use,
        },
        "findings": [vars(finding) for finding in found.findings],
    }


def _csp_domains(domains: list[str] | None) -> str:
    if domains is None:
        return "none declared (no operation names a UI)"
    return " ".join(domains) or "none (the UIs load nothing from outside)"


def _served(ui: dict[str, Any]) -> str:
    where = "not served (MCP_ENABLED is off)"
    if ui["uri"]:
        where = f"{ui['uri']}, {ui['size']:,} bytes"
    domains = [f"{name} {' '.join(ds)}" for name, ds in ui["csp"].items() if ds]
    return f"{where}; CSP: {'; '.join(domains) or 'none'}"
