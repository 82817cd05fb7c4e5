from django.core.management.base import BaseCommand, CommandError

from lifes.errors import DomainError
from permits.keys import rotate
from permits.models import SigningKey, SigningKeyStatus


class Command(BaseCommand):
    help = (
        "Make a new active signing key. The old one is retired but stays in the JWKS while "
        "permits it signed are valid."
    )

    def handle(self, *args, **options):
        old = SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).first()
        try:
            new = rotate(actor=None)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"retired: {old.kid if old else '-'}")
        self.stdout.write(f"active:  {new.kid}")
