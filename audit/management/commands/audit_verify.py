import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.utils.module_loading import import_string

from audit.services import log_verify


def _published(path: str) -> list[tuple[int, str]]:
    """Tree heads kept outside the hub: a ``lifes-node witness`` state file (``{"heads":
    [...]}``), one head from GET /api/v1/audit/tree-head, or a list of such heads."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(document, dict):
            items = document["heads"] if "heads" in document else [document]
        else:
            items = document
        return [(int(item["tree_size"]), str(item["root_hash"])) for item in items]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"cannot read tree heads from {path}: {exc}") from exc


class Command(BaseCommand):
    help = (
        "Recompute every leaf and node of the audit log and check every signed tree head; "
        "exit 0 with the root hash and event count when intact, exit 1 naming the first break."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=10000)
        parser.add_argument(
            "--tree-heads",
            metavar="FILE",
            help="also check tree heads kept outside the hub (a witness state or API answers)",
        )
        parser.add_argument(
            "--skip-signatures",
            action="store_true",
            help="do not verify the tree heads' signatures",
        )

    def handle(
        self, *args, batch_size: int, tree_heads: str | None, skip_signatures: bool, **options
    ):
        verifier = None
        if not skip_signatures and getattr(settings, "AUDIT_TREE_HEAD_VERIFIER", ""):
            verifier = import_string(settings.AUDIT_TREE_HEAD_VERIFIER)
        published = _published(tree_heads) if tree_heads else []
        try:
            report = log_verify(batch_size=batch_size, verifier=verifier, published=published)
        except (DatabaseError, getattr(connection.Database, "Error", DatabaseError)) as exc:
            # Not a verdict on the log: it could not be read to the end (a timeout, a lost
            # connection). Exit 2, so no one reads it as "broken" (1) or "intact" (0).
            message = f"the log could not be read to the end: {exc}"
            raise CommandError(message, returncode=2) from exc
        if report.is_intact:
            self.stdout.write(f"intact: {report.count} events, head {report.head_hash}")
            self.stdout.write(
                f"tree heads: {report.heads} passed; {report.unsequenced} events awaiting "
                "the sequencer"
            )
            return
        self.stderr.write(
            f"broken at event #{report.broken_seq}: {report.reason} "
            f"({report.count} events verified before it)"
        )
        raise SystemExit(1)
