from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from requests_app.workflow import markdown_table


class Command(BaseCommand):
    help = "Write docs/workflow.md from the transition table (--check: fail if it is stale)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, check: bool, **options):
        path = Path(settings.BASE_DIR) / "docs" / "workflow.md"
        text = markdown_table()
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                self.stderr.write("docs/workflow.md is stale: run manage.py workflow_docs")
                raise SystemExit(1)
            self.stdout.write("docs/workflow.md is up to date")
            return
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {path}")
