"""The plugin manifest ChatGPT reads at ``/.well-known/ai-plugin.json``."""

from __future__ import annotations

from typing import Any

from flask import current_app

from plugin.api.urls import external_url
from plugin.chatgpt.settings import VERIFICATION_TOKEN, get_setting
from plugin.oauth.scopes import scopes


def build_manifest() -> dict[str, Any]:
    """The manifest for this request's public origin, from configuration and settings."""
    config = current_app.config
    auth: dict[str, Any] = {
        "type": "oauth",
        "client_url": external_url("oauth.authorize"),
        "scope": " ".join(scopes()),
        "authorization_url": external_url("oauth.issue_token"),
        "authorization_content_type": "application/json",
    }
    verification_token = get_setting(VERIFICATION_TOKEN)
    if verification_token:
        auth["verification_tokens"] = {"openai": verification_token}
    return {
        "schema_version": "v1",
        "name_for_human": config["PLUGIN_NAME_FOR_HUMAN"],
        "name_for_model": config["PLUGIN_NAME_FOR_MODEL"],
        "description_for_human": config["PLUGIN_DESCRIPTION_FOR_HUMAN"],
        "description_for_model": config["PLUGIN_DESCRIPTION_FOR_MODEL"],
        "auth": auth,
        "api": {
            "type": "openapi",
            "url": external_url("chatgpt.openapi_yaml"),
            "is_user_authenticated": False,
        },
        "logo_url": external_url("chatgpt.logo"),
        "contact_email": config["PLUGIN_CONTACT_EMAIL"],
        "legal_info_url": external_url("chatgpt.legal"),
    }
