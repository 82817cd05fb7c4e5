"""Import participant consents from a file: ``manage.py consent_import DATASET PATH``.

Runs as the system (``actor=None``), audited like an import through the web pages. All or
nothing: when anything is refused, the report lists it and the command exits 1.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.models import Dataset
from consent.services import FORMATS, ConsentImportRefused, consent_import


class Command(BaseCommand):
    help = "Import FHIR R4/R5 Consent JSON (a resource or a Bundle) or a consent CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", help="the dataset id (slug)")
        parser.add_argument("path")
        parser.add_argument("--type", default="auto", choices=FORMATS)

    def handle(self, *args, dataset: str, path: str, type: str, **options) -> None:  # noqa: A002
        target = Dataset.objects.filter(slug=dataset).first()
        if target is None:
            raise CommandError(f"no dataset {dataset!r}")
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"{source}: no such file")
        try:
            report = consent_import(
                actor=None,
                dataset=target,
                content=source.read_bytes(),
                fmt=type,
                filename=source.name,
            )
        except ConsentImportRefused as exc:
            for item in exc.report.refused:
                self.stderr.write(f"{item['entry']}: {'; '.join(item['reasons'])}")
            raise CommandError(exc.message) from exc
        for line in report.ignored + report.notes:
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.entries} consents read: {report.participants_created} new participants, "
                f"{report.consents_recorded} consents recorded, {report.unchanged} unchanged; "
                f"cohort version {report.version}."
            )
        )
