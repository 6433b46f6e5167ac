import click
from flask.cli import AppGroup

clients = AppGroup("clients", help="Manage OAuth clients (the client_id/secret pasted into ChatGPT).")
