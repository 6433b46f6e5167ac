from flask import Blueprint, Flask

bp = Blueprint("chatgpt", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
