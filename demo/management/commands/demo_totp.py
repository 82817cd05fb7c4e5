from django.core.management.base import BaseCommand

from demo.world import DEMO_TOTP_PEOPLE, demo_totp_code


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo deciders' authenticator (seed_demo)."

    def handle(self, *args, **options):
        people = ", ".join(DEMO_TOTP_PEOPLE)
        self.stdout.write(f"{demo_totp_code()}  (valid about 30 s; for {people})")
