"""``/privacy``, ``/terms`` and ``/support``: public pages, linked from every page's footer,
the consent page and the manifest's ``/legal``."""

from __future__ import annotations

from flask import Blueprint, render_template

from plugin.policies.texts import SOURCE_META, policy_text, retention_facts
from plugin.web import public_url

bp = Blueprint("policies", __name__)


def _page(name: str) -> str:
    text = policy_text(name)
    return render_template(
        f"policies/{name}.html",
        operator_body=text.body,
        source=text.source,
        source_meta=SOURCE_META,
        facts=retention_facts(),
        mcp_url=public_url("/mcp"),
    )


@bp.get("/privacy")
def privacy() -> str:
    return _page("privacy")


@bp.get("/terms")
def terms() -> str:
    return _page("terms")


@bp.get("/support")
def support() -> str:
    return _page("support")
