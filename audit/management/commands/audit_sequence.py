from django.core.management.base import BaseCommand

from audit.services import audit_sequence


class Command(BaseCommand):
    help = (
        "Place every committed, unsequenced audit event in the Merkle tree and sign the tree "
        "head (what the beat task does every second)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=10000)

    def handle(self, *args, batch_size: int, **options):
        head = audit_sequence(batch_size=batch_size)
        if head is None:
            self.stdout.write("nothing signed (empty log, or another sequencer is running)")
            return
        self.stdout.write(f"tree head: size {head.tree_size}, root {head.root_hash}")
