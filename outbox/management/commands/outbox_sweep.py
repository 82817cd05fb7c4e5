"""Send every due outbox row now (eager mode has no beat: ``make run`` operators use this)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from outbox.services import outbox_sweep


class Command(BaseCommand):
    help = "Deliver the side effects that are not acknowledged yet and whose time has come."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"sent {outbox_sweep()}")
