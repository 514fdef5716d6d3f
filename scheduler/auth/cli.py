import click

users_cli = click.Group("users", help="Utenti: personale e facilitatori.")
