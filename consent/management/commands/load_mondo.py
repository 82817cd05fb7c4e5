"""Install a newer MONDO release for the matcher and the cohort: ``manage.py load_mondo PATH``.

PATH is ``mondo.obo`` (the OBO release), or a ``id<TAB>label<TAB>parents`` TSV, optionally
gzipped; it is parsed with the same code that built the shipped file (``consent.vocabulary``) and
written in the shipped format. The target is ``--target``, else ``$LIFES_MONDO_FILE`` (which the
hub then reads instead of the shipped copy), else ``settings.MONDO_PATH`` when set, else the
shipped ``consent/data/mondo.tsv.gz``.

A release that lacks the root term, or that drops disease terms still used by a dataset's
conditions or a participant's consent, is refused (``--force`` overrides the latter): the matcher
would otherwise refuse those datasets' conditions as unknown terms. Web and worker processes read
the vocabulary once; restart them after loading.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.models import Dataset
from consent import vocabulary as vocab
from consent.models import ConsentProvision

ROOT = "MONDO:0000001"


def default_target() -> Path:
    configured = os.environ.get(vocab.ENV_MONDO) or getattr(settings, "MONDO_PATH", "")
    return Path(configured) if configured else vocab.MONDO_TSV_GZ


def terms_in_use() -> set[str]:
    used: set[str] = set()
    for diseases in Dataset.objects.values_list("duo_diseases", flat=True):
        used.update(d for d in diseases or [] if isinstance(d, str))
    used.update(
        ConsentProvision.objects.exclude(disease="")
        .values_list("disease", flat=True)
        .distinct()
        .order_by()
    )
    return used


class Command(BaseCommand):
    help = "Load a MONDO release (OBO or TSV, optionally .gz) for the consent matcher."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="mondo.obo, mondo.obo.gz, or a TSV (id, label, parents)")
        parser.add_argument(
            "--target",
            help="where to write it (default: $LIFES_MONDO_FILE, "
            "settings.MONDO_PATH or the shipped consent/data/mondo.tsv.gz)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="install even if terms in use are missing from the release",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would change and write nothing"
        )

    def handle(
        self, *args, path: str, target: str | None, force: bool, dry_run: bool, **options
    ) -> None:
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"{source}: no such file")
        try:
            terms = vocab.read_mondo_file(source)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"{source}: cannot read it as MONDO: {exc}") from exc
        if ROOT not in terms:
            raise CommandError(
                f"{source}: {len(terms)} terms but no {ROOT} (disease or "
                "disorder); is this a MONDO release?"
            )
        destination = Path(target) if target else default_target()
        try:
            before = set(vocab.read_mondo_file(destination)) if destination.exists() else set()
        except (OSError, ValueError):
            before = set()
        missing = sorted(terms_in_use() - set(terms))
        parents = sum(len(p) for _, p in terms.values())
        self.stdout.write(
            f"MONDO from {source.name}: {len(terms)} terms, {parents} is_a links "
            f"(was {len(before)} terms: {len(set(terms) - before)} added, "
            f"{len(before - set(terms))} removed)"
        )
        if missing:
            message = (
                f"{len(missing)} disease terms in use are not in this release: "
                f"{', '.join(missing[:20])}{' …' if len(missing) > 20 else ''}"
            )
            if not force:
                raise CommandError(message + " (use --force to install anyway)")
            self.stderr.write("warning: " + message)
        if dry_run:
            self.stdout.write("dry run: nothing written")
            return
        destination.parent.mkdir(parents=True, exist_ok=True)
        attribution = (
            f"Contains data derived from the Mondo Disease Ontology (MONDO), release file "
            f"{source.name} (https://mondo.monarchinitiative.org/), licensed CC BY 4.0 "
            "(https://creativecommons.org/licenses/by/4.0/). Changes: reduced to term ids, "
            "labels and is_a parents by manage.py load_mondo."
        )
        handle, temporary = tempfile.mkstemp(dir=destination.parent, suffix=".tmp")
        os.close(handle)
        try:
            vocab.write_mondo_tsv_gz(terms, temporary, attribution)
            os.replace(temporary, destination)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        shipped = destination.resolve() == vocab.MONDO_TSV_GZ.resolve()
        vocab.configure(mondo_path=None if shipped else destination)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {len(terms)} MONDO terms to {destination}. Restart web and worker processes"
                + (
                    ""
                    if shipped or os.environ.get(vocab.ENV_MONDO)
                    else f" with {vocab.ENV_MONDO}={destination}"
                )
                + " to use them."
            )
        )
