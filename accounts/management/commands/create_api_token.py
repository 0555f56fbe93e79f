"""Print a new API token for a user: `manage.py create_api_token EMAIL [--name NAME]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.selectors import user_find_by_email
from accounts.services import TooManyApiTokens, api_token_create


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (it cannot be shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="cli", help="A name to recognise the token by.")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = user_find_by_email(email=email)
        if user is None:
            raise CommandError(f"No user with email {email!r}.")
        try:
            issued = api_token_create(owner=user, name=name)
        except TooManyApiTokens as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(issued.secret)
