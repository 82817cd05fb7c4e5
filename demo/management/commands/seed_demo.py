from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from demo.world import DEMO_PASSWORD, DEMO_TOTP_PEOPLE, USERS, demo_totp_secret, seed_demo


class Command(BaseCommand):
    help = "Create the demo world (idempotent) and print the demo accounts."

    def handle(self, *args, **options):
        # The demo story sends dozens of notifications; keep them out of the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            report = seed_demo()
        self.stdout.write(f"Demo world ready ({len(report.created)} objects created).")
        self.stdout.write(f"Password for every demo account: {DEMO_PASSWORD}")
        for email, full_name, organisation, _role, _flags in USERS:
            self.stdout.write(f"  {email:<28} {full_name} ({organisation})")
        self.stdout.write(
            f"Two-factor sign-in for {', '.join(e.split('@')[0] for e in DEMO_TOTP_PEOPLE)}: "
            f"add the key {demo_totp_secret()} to an authenticator app, "
            "or run `manage.py demo_totp` for the current code."
        )
        self.stdout.write(f"Demo node lumc-station-1 API token: {report.node_token}")
        for note in report.notes:
            self.stdout.write(note)
