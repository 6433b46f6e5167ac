"""``flask check --directory``: what OpenAI's and Anthropic's directory submissions ask for,
read from this deployment, and every problem a reviewer would reject, each with its fix.

Pages and metadata are fetched the way ``check`` fetches the manifest (over HTTP from a
BASE_URL, else in-process); tools, annotations, example prompts and UIs come from the
operation registry, the declarations the served tools and UI resources are built from.
"""

from __future__ import annotations

from plugin.chatgpt.directory_registry import (
    check_prompts,
    check_reviewers,
    check_tools,
    check_uis,
)
from plugin.chatgpt.directory_site import (
    check_authorization,
    check_base_url,
    check_challenge,
    check_policies,
)
from plugin.chatgpt.directory_submission import Fetch, Submission
from plugin.oauth.resources.audiences import MCP_PATH


def collect(fetch: Fetch, origin: str, *, over_http: bool) -> Submission:
    """Everything ``check --directory`` prints for ``origin``."""
    found = Submission(origin=origin, mcp_url=origin + MCP_PATH)
    check_base_url(found)
    check_challenge(found, fetch)
    check_authorization(found, fetch)
    check_policies(found, fetch)
    check_tools(found)
    check_uis(found)
    check_prompts(found)
    if not over_http:
        # The local database is this deployment's only when checking it in-process.
        check_reviewers(found)
    return found
