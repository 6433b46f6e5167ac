"""The ceiling: a bare Flask app answering a small JSON object, served like the real one."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
@app.get("/healthz")
def hello():
    return jsonify(status="ok", items=[])
