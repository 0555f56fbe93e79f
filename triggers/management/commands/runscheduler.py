"""`manage.py runscheduler [--once]`: start the runs of due schedules, every SCHEDULER_TICK_SECONDS.

Safe to run in several processes at once: each due firing is claimed by exactly one of them.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core.tracing import tracing_setup
from triggers.scheduler import scheduler_loop, scheduler_tick


class Command(BaseCommand):
    help = "Start the runs of due schedules (loop; --once for a single pass, e.g. from cron)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Fire what is due now, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        tracing_setup()  # each firing is a span, its run's parent (core/tracing.py)
        if options["once"]:
            fired = scheduler_tick()
            self.stdout.write(f"{fired} schedule(s) fired")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("Scheduler running; stop with Ctrl-C or SIGTERM.")
        scheduler_loop(stop)
