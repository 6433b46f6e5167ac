"""The metadata documents of ChatGPT and Claude, shipped with the server.

Their hosts have answered datacenter fetches with bot challenges, so these copies serve as
the last good copy from the start (``metadata_documents``).
"""

from __future__ import annotations

from typing import Any

CHATGPT_NAME = "ChatGPT"
CLAUDE_NAME = "Claude"
KNOWN_DOCUMENTS: dict[str, dict[str, Any]] = {
    "https://chatgpt.com/oauth/client.json": {
        "client_id": "https://chatgpt.com/oauth/client.json",
        "client_name": CHATGPT_NAME,
        "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        # ChatGPT lists an array where RFC 7591 has one value; "none" is the one used here.
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
    },
    "https://chatgpt.com/oauth/mcp/client.json": {
        "client_id": "https://chatgpt.com/oauth/mcp/client.json",
        "client_name": CHATGPT_NAME,
        "redirect_uris": ["https://chatgpt.com/connector/oauth/mcp"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
    },
    "https://claude.ai/oauth/mcp-oauth-client-metadata": {
        "client_id": "https://claude.ai/oauth/mcp-oauth-client-metadata",
        "client_name": CLAUDE_NAME,
        "redirect_uris": [
            "https://claude.ai/api/mcp/auth_callback",
            "https://claude.com/api/mcp/auth_callback",
        ],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    },
}
