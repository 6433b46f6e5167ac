"""Every setting's default, and which settings are numbers, switches or rates."""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    "DATABASE_URL": None,
    "REDIS_URL": None,
    "PLUGIN_BASE_URL": None,
    "OPENAI_VERIFICATION_TOKEN": None,
    # Served at /.well-known/openai-apps-challenge for OpenAI's app directory (404 while unset).
    "OPENAI_APPS_CHALLENGE_TOKEN": None,
    "ACCESS_TOKEN_TTL": 3600,
    "REFRESH_TOKEN_TTL": 2_592_000,
    "AUTH_CODE_TTL": 300,
    "PENDING_ACTION_TTL": 900,
    "PASSWORD_RESET_TTL": 86_400,
    # Links people receive by e-mail: a forgotten password, a new address, a verification.
    "FORGOT_PASSWORD_TTL": 3600,
    "EMAIL_CHANGE_TTL": 86_400,
    "EMAIL_VERIFICATION_TTL": 259_200,
    # How long a browser has to answer a passkey prompt (plugin/accounts/ceremonies.py).
    "PASSKEY_CHALLENGE_TTL": 300,
    # Unset: messages are printed to the console and kept in the admin outbox (development).
    "MAIL_URL": None,
    "MAIL_FROM": None,
    "MAIL_TIMEOUT": 10,
    "REQUIRE_VERIFIED_EMAIL": False,
    # Manifest text; an operator changes these for their own plugin.
    "PLUGIN_NAME_FOR_HUMAN": "Todo Plugin",
    "PLUGIN_NAME_FOR_MODEL": "todo_plugin",
    "PLUGIN_DESCRIPTION_FOR_HUMAN": "Keep a personal todo list from ChatGPT.",
    "PLUGIN_CONTACT_EMAIL": "support@example.com",
    "PLUGIN_DESCRIPTION_FOR_MODEL": (
        "Manage the person's personal todo list. Use it when they want to add, find, review, "
        "update, complete or delete their todos or tasks. Search with listTodos before acting "
        "on an item named in words. Show each item's url as a link. Deleting never happens at "
        "once: deleteTodo returns a confirm_url; give that link to the person and tell them "
        "the item is deleted only after they open it and confirm. Check the outcome with "
        "getActionStatus. Never claim an item was deleted before the status says confirmed."
    ),
    # Who runs this deployment (a person or company, as verified with the app directories):
    # the built-in privacy, terms and support pages name it.
    "PLUGIN_PUBLISHER": None,
    # The text of /legal; None shows the built-in summary with links to the policy pages.
    "PLUGIN_LEGAL_TEXT": None,
    "CORS_ORIGINS": "https://chat.openai.com https://chatgpt.com",
    "PROXY_FIX_HOPS": 0,
    "LOG_FORMAT": "text",
    "LOG_LEVEL": "INFO",
    # Several apps may share one Redis; the prefix keeps their rate-limit counters apart.
    "RATELIMIT_KEY_PREFIX": "plugin",
    # Failed logins only: per address, per account and address pair, and per account from
    # browsers that never signed in to it (plugin/accounts/throttle.py).
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    "LOGIN_PAIR_RATE_LIMIT": "5 per minute;30 per hour",
    "LOGIN_ACCOUNT_RATE_LIMIT": "10 per minute;100 per hour",
    "SIGNUP_RATE_LIMIT": "5 per minute;30 per hour",
    "FORGOT_PASSWORD_RATE_LIMIT": "5 per minute;20 per hour",
    # Passkey prompts started (sign-in or adding one) per client address.
    "PASSKEY_RATE_LIMIT": "30 per minute;300 per hour",
    # E-mails about one account (reset links, verification, new address), whoever asks.
    "ACCOUNT_MAIL_RATE_LIMIT": "3 per 15 minutes;10 per day",
    # Per address: ChatGPT calls from a few shared addresses on behalf of every user.
    "TOKEN_RATE_LIMIT": "300 per minute",
    "CLIENT_AUTH_FAILURE_LIMIT": "10 per minute",
    "API_RATE_LIMIT": "600 per minute",
    "RATELIMIT_ENABLED": True,
    # ChatGPT apps and Claude connectors (docs/chatgpt-setup.md).
    "MCP_ENABLED": True,
    # _meta.ui.domain of the UIs (MCP Apps): "claude" is <sha256(MCP URL)[:32]>
    # .claudemcpcontent.com, the only value Claude accepts (ChatGPT derives its own origin from
    # the same URL); "none" leaves it out; anything else is sent as it is.
    "MCP_UI_DOMAIN": "claude",
    "OAUTH_DCR_ENABLED": True,
    "OAUTH_CIMD_ENABLED": True,
    # Unset: any public https host may serve a client metadata document; else a list.
    "OAUTH_CIMD_ALLOWED_HOSTS": None,
    # Development and tests only: fetch metadata documents from http://127.0.0.1/localhost.
    "OAUTH_CIMD_ALLOW_LOOPBACK": False,
    # Seconds a request waits for the metadata-document fetch it started before answering
    # "try again in a few seconds" (the fetch goes on beside it; the worker is free again).
    "OAUTH_CIMD_FETCH_WAIT": 0.5,
    # Per address; Claude registers anew on every fresh connection.
    "REGISTRATION_RATE_LIMIT": "20 per hour",
    # How long a retried refresh of a public client's just-rotated token gets the same pair.
    "REFRESH_RETRY_GRACE": 60,
    # Request limits (plugin/inputs.py): bytes in a body, bytes in one multipart field, and
    # fields in a form. No page or API call comes near them.
    "MAX_CONTENT_LENGTH": 1_048_576,
    "MAX_FORM_MEMORY_SIZE": 65_536,
    "MAX_FORM_PARTS": 200,
    # Connection traces (Admin → Connections) are kept this many days after their last step.
    "CONNECTION_TRACE_DAYS": 14,
    # How people sign in: local (passwords, passkeys), upstream (providers only) or both.
    "SIGN_IN_METHODS": "both",
    # Upstream sign-in (docs/accounts.md): the providers' names, each configured by its own
    # UPSTREAM_<NAME>_… variables, and the seconds any call to a provider may take.
    "UPSTREAM_PROVIDERS": None,
    "UPSTREAM_TIMEOUT": 5,
}

INT_KEYS = (
    "ACCESS_TOKEN_TTL",
    "REFRESH_TOKEN_TTL",
    "AUTH_CODE_TTL",
    "PENDING_ACTION_TTL",
    "PASSWORD_RESET_TTL",
    "FORGOT_PASSWORD_TTL",
    "EMAIL_CHANGE_TTL",
    "EMAIL_VERIFICATION_TTL",
    "PASSKEY_CHALLENGE_TTL",
    "MAIL_TIMEOUT",
    "PROXY_FIX_HOPS",
    "REFRESH_RETRY_GRACE",
    "CONNECTION_TRACE_DAYS",
    "UPSTREAM_TIMEOUT",
)
BOOL_KEYS = (
    "RATELIMIT_ENABLED",
    "MCP_ENABLED",
    "OAUTH_DCR_ENABLED",
    "OAUTH_CIMD_ENABLED",
    "OAUTH_CIMD_ALLOW_LOOPBACK",
    "REQUIRE_VERIFIED_EMAIL",
)
FLOAT_KEYS = ("OAUTH_CIMD_FETCH_WAIT",)
LIMIT_KEYS = ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS")
ENV_KEYS = tuple(DEFAULTS)
RATE_LIMIT_KEYS = tuple(key for key in DEFAULTS if key.endswith(("_RATE_LIMIT", "_FAILURE_LIMIT")))
UPSTREAM_PREFIX = "UPSTREAM_"
SIGN_IN_METHODS = ("local", "upstream", "both")
