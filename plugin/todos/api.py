from flask import Blueprint

bp = Blueprint("todos_api", __name__, url_prefix="/api")
