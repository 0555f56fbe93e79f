"""`manage.py purge_runs --older-than 30d`: delete finished runs older than that (results and logs too), and
Idempotency-Keys past their 24 hours."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.idempotency import idempotency_keys_purge
from runs.recovery import runs_purge

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(value: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", value)
    if not match:
        raise CommandError(f"--older-than must look like 30d, 12h, 90m, 45s or 2w; got {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Command(BaseCommand):
    help = "Delete finished runs older than --older-than (e.g. 30d), with their node results and logs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", required=True, help="An age: 30d, 12h, 90m, 45s or 2w.")

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = runs_purge(older_than=parse_age(options["older_than"]))
        keys = idempotency_keys_purge()
        self.stdout.write(f"Deleted {deleted} run(s) older than {options['older_than']}.")
        if keys:
            self.stdout.write(f"Deleted {keys} expired idempotency key(s).")
