import click


@click.command("dev")
def dev() -> None:
    """Migrate, make sure a demo client exists, and serve on http://localhost:5003."""
