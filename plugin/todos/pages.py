from flask import Blueprint

bp = Blueprint("todos_pages", __name__)
