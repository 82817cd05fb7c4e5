from django.core.management.base import BaseCommand, CommandError

from demo.permits_world import NODE_ID, current_demo_permit


class Command(BaseCommand):
    help = (
        "Print the compact JWS of the demo permit that is valid now on the demo node "
        f"{NODE_ID}, and nothing else on stdout: `manage.py demo_node_permit > permit.jwt`."
    )

    def handle(self, *args, **options):
        permit = current_demo_permit()
        if permit is None:
            raise CommandError(
                f"No demo permit is valid now on {NODE_ID}; run `manage.py seed_demo` first."
            )
        self.stderr.write(f"demo permit {permit.number}, valid until {permit.valid_until:%Y-%m-%d}")
        self.stdout.write(permit.token)
