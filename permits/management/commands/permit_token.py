from django.core.management.base import BaseCommand, CommandError

from permits.models import Permit


class Command(BaseCommand):
    help = "Print the compact JWS of a permit, for handing to an offline node."

    def add_arguments(self, parser):
        parser.add_argument("number", help="The permit number, e.g. LIFES-P-2026-000001.")

    def handle(self, *args, **options):
        permit = Permit.objects.filter(number=options["number"]).first()
        if permit is None or not permit.token:
            raise CommandError(f"No permit {options['number']}.")
        if permit.effective_status != "active":
            self.stderr.write(
                f"note: permit {permit.number} is {permit.effective_status}; nodes will refuse it."
            )
        self.stdout.write(permit.token)
