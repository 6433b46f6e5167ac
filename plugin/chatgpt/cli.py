import click
from flask.cli import AppGroup

settings = AppGroup("settings", help="Operator settings shown in the manifest.")


@click.command("check")
def check() -> None:
    """Lint the manifest and OpenAPI document against ChatGPT's limits."""
