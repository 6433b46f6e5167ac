"""The MCP endpoint at ``/mcp``: every API operation as a tool, for ChatGPT apps and connectors."""

from __future__ import annotations

import logging

from flask import Flask


def init_app(app: Flask) -> None:
    if not app.config["MCP_ENABLED"]:
        return
    from plugin.api.checks import register_check
    from plugin.api.operations import serve_uis_with
    from plugin.mcp import apps, check, server, ui_check, views
    from plugin.paths import register_paths

    app.register_blueprint(views.bp)
    app.extensions[views.EXTENSION] = server.build_server(
        app.config["PLUGIN_NAME_FOR_MODEL"], app.config["PLUGIN_DESCRIPTION_FOR_MODEL"]
    )
    register_check(app, check.check_mcp)
    register_check(app, ui_check.check_uis)
    serve_uis_with(app, apps.served_uis)
    # Programs call it: JSON errors. No CORS: MCP clients call from their servers.
    register_paths(app, "machine", exact=("/mcp",))
    # The SDK reports each refused request itself at INFO; our log line already has it.
    logging.getLogger("mcp").setLevel(logging.WARNING)
