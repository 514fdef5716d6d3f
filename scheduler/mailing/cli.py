import click


@click.command("worker")
def worker_command() -> None:
    """Deliver the outbox."""
