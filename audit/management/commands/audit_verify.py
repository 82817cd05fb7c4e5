from django.core.management.base import BaseCommand

from audit.services import chain_verify


class Command(BaseCommand):
    help = "Recompute the audit chain; exit 0 with the head when intact, exit 1 naming the break."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, batch_size: int, **options):
        report = chain_verify(batch_size=batch_size)
        if report.is_intact:
            self.stdout.write(f"intact: {report.count} events, head {report.head_hash}")
            return
        self.stderr.write(
            f"broken at event #{report.broken_seq}: {report.reason} "
            f"({report.count} events verified before it)"
        )
        raise SystemExit(1)
