"""The manifest, the OpenAPI document and the assets the manifest points to."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template

from plugin.api.openapi import openapi_document
from plugin.chatgpt import context, cors
from plugin.chatgpt.manifest import build_manifest
from plugin.chatgpt.settings import APPS_CHALLENGE_TOKEN, get_setting
from plugin.paths import register_paths

bp = Blueprint("chatgpt", __name__)


MANIFEST_PATHS = ("/.well-known/ai-plugin.json", "/openapi.yaml", "/openapi.json", "/logo.png")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    cors.init_app(app)
    context.init_app(app)
    register_paths(app, "machine", prefixes=("/.well-known/",), exact=MANIFEST_PATHS[:3])
    register_paths(app, "cors", exact=MANIFEST_PATHS)


@bp.get("/.well-known/ai-plugin.json")
def manifest() -> Response:
    return jsonify(build_manifest())


@bp.get("/.well-known/openai-apps-challenge")
def apps_challenge() -> Response:
    """The domain-verification token OpenAI's app directory asks the operator to serve."""
    token = get_setting(APPS_CHALLENGE_TOKEN)
    if not token:
        abort(404)
    response = Response(token, mimetype="text/plain")
    # A changed token must be seen at once when the operator presses "verify".
    response.cache_control.no_cache = True
    return response


@bp.get("/openapi.json")
def openapi_json() -> Response:
    document = openapi_document(current_app)
    return Response(json.dumps(document, separators=(",", ":")), mimetype="application/json")


@bp.get("/openapi.yaml")
def openapi_yaml() -> Response:
    document = openapi_document(current_app)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return Response(text, mimetype="text/yaml")


@bp.get("/logo.png")
def logo() -> Response:
    # A few kilobytes, read whole: no file handle outlives the request.
    data = (Path(current_app.static_folder or "static") / "logo.png").read_bytes()
    response = Response(data, mimetype="image/png")
    response.cache_control.public = True
    response.cache_control.max_age = 86_400
    return response


@bp.get("/legal")
def legal() -> str:
    return render_template("legal.html", legal_text=current_app.config.get("PLUGIN_LEGAL_TEXT"))
