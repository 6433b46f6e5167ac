"""What the operation registry tells a directory reviewer: the tools with their annotations,
the UIs with their CSP, the example prompts, and the reviewers' accounts."""

from __future__ import annotations

from flask import current_app
from jinja2 import TemplateError

from plugin.accounts.reviewers import list_reviewers
from plugin.api.declarations import OperationUi
from plugin.api.hints import tool_hints
from plugin.api.operations import example_prompts, operations, served_uis
from plugin.chatgpt.directory_submission import Submission

MIN_SHOULD_USE, MIN_SHOULD_NOT_USE = 5, 3
MAX_REASON = 200


def check_tools(found: Submission) -> None:
    for registered in operations(current_app):
        name = registered.operation.operation_id
        hints = tool_hints(registered)
        found.tools.append(
            {
                "name": name,
                "title": registered.operation.summary,
                "annotations": {
                    hint: {"value": value.value, "why": value.why} for hint, value in hints.items()
                },
            }
        )
        for hint, value in hints.items():
            why = value.why.strip()
            if not why or "\n" in why or len(why) > MAX_REASON:
                found.problem(
                    f"tools[{name}].{hint}",
                    f"needs a one-line justification of at most {MAX_REASON} characters.",
                    f'declare it: @api_operation(..., annotations={{"{hint}": '
                    f'({value.value}, "why, in one line")}}).',
                )


def _csp(ui: OperationUi) -> dict[str, list[str]]:
    return {
        "connect_domains": list(ui.connect_domains),
        "resource_domains": list(ui.resource_domains),
        "frame_domains": list(ui.frame_domains),
        "base_uri_domains": list(ui.base_uri_domains),
    }


def check_uis(found: Submission) -> None:
    declared: dict[str, OperationUi] = {}
    for registered in operations(current_app):
        if registered.operation.ui is not None:
            declared.setdefault(registered.operation.ui.template, registered.operation.ui)
    if not declared:
        return
    csps = {template: _csp(ui) for template, ui in declared.items()}
    found.csp_domains = sorted({d for csp in csps.values() for ds in csp.values() for d in ds})
    for domain in found.csp_domains:
        if "*" in domain:
            found.problem(
                "ui.csp",
                f"{domain} is a wildcard: reviewers want the exact domains a UI uses.",
                "list each host in the OperationUi; `flask --app plugin check` compares the CSP "
                "with what the page loads.",
            )
    try:
        served = {each.ui.template: each for each in served_uis(current_app) or []}
    except (TemplateError, ValueError) as error:
        served = {}
        found.problem(
            "ui",
            f"the UIs cannot be rendered ({error}).",
            "run `flask --app plugin check`: it names the UI and what to change.",
        )
    for template, csp in csps.items():
        each = served.get(template)
        found.uis.append(
            {
                "template": template,
                "uri": each.uri if each else None,
                "size": each.size if each else None,
                "csp": csp,
            }
        )


def check_prompts(found: Submission) -> None:
    prompts = example_prompts(current_app)
    found.should_use = list(prompts.should_use)
    found.should_not_use = list(prompts.should_not_use)
    for where, have, least, kind in (
        ("should_use", found.should_use, MIN_SHOULD_USE, "should use the app"),
        ("should_not_use", found.should_not_use, MIN_SHOULD_NOT_USE, "should not use it"),
    ):
        if len(have) < least:
            found.problem(
                f"prompts.{where}",
                f"{len(have)} example prompt(s) that {kind}; the forms ask for at least {least}.",
                f"add them to ExamplePrompts({where}=...) on your ApiBlueprint's example_prompts.",
            )


def check_reviewers(found: Submission) -> None:
    enabled = [user.email for user in list_reviewers() if not user.is_disabled]
    found.reviewers = enabled
    if not enabled:
        found.problem(
            "reviewer",
            "no enabled reviewer account: the forms ask for test credentials.",
            "run `flask --app plugin users create-reviewer` and give its e-mail and password.",
            "warning",
        )
