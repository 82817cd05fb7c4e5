from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import TokenScope, User
from accounts.services import api_token_create
from lifes.errors import DomainError


class Command(BaseCommand):
    help = (
        "Issue an API token (printed once), e.g. a node's machine token when it is set up or "
        "rotated. A node's token does not expire unless --days is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the account, e.g. the node identity's email")
        parser.add_argument("--name", required=True, help="what the token is for")
        parser.add_argument("--scope", choices=TokenScope.values, default=TokenScope.FULL)
        parser.add_argument("--days", type=int, help="expire after this many days")

    def handle(self, *args, **options):
        user = User.objects.filter(email=options["email"].lower()).first()
        if user is None:
            raise CommandError(f"No account {options['email']}.")
        expires_at = timezone.now() + timedelta(days=options["days"]) if options["days"] else None
        try:
            issued = api_token_create(
                actor=None,
                user=user,
                name=options["name"],
                scope=options["scope"],
                expires_at=expires_at,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(issued.key)
