import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from audit.services import chain_verify


def _published(path: str) -> list[tuple[int, str]]:
    """Checkpoints an outsider kept: the JSON of GET /api/v1/audit/checkpoints (a page with
    ``results``, or a plain list) or any list of ``{"seq", "hash"}``."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        items = document["results"] if isinstance(document, dict) else document
        return [(int(item["seq"]), str(item["hash"])) for item in items]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"cannot read checkpoints from {path}: {exc}") from exc


class Command(BaseCommand):
    help = (
        "Recompute the audit chain and check it passes through every signed checkpoint; "
        "exit 0 with the head when intact, exit 1 naming the first break."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=10000)
        parser.add_argument(
            "--checkpoints",
            metavar="FILE",
            help="also check checkpoints kept outside the hub (JSON from the checkpoints API)",
        )
        parser.add_argument(
            "--skip-signatures",
            action="store_true",
            help="do not verify the checkpoints' signatures",
        )

    def handle(
        self, *args, batch_size: int, checkpoints: str | None, skip_signatures: bool, **options
    ):
        verifier = None
        if not skip_signatures and getattr(settings, "AUDIT_CHECKPOINT_VERIFIER", ""):
            verifier = import_string(settings.AUDIT_CHECKPOINT_VERIFIER)
        published = _published(checkpoints) if checkpoints else []
        report = chain_verify(batch_size=batch_size, verifier=verifier, published=published)
        if report.is_intact:
            self.stdout.write(f"intact: {report.count} events, head {report.head_hash}")
            self.stdout.write(f"checkpoints: {report.checkpoints} passed")
            return
        self.stderr.write(
            f"broken at event #{report.broken_seq}: {report.reason} "
            f"({report.count} events verified before it)"
        )
        raise SystemExit(1)
