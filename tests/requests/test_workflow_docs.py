"""docs/workflow.md is generated from the transition table and kept current."""

from pathlib import Path

from django.conf import settings

from requests_app.workflow import TRANSITIONS, markdown_table


def test_workflow_docs_match_the_table():
    text = (Path(settings.BASE_DIR) / "docs" / "workflow.md").read_text(encoding="utf-8")
    assert text == markdown_table(), "run: python manage.py workflow_docs"
    for transition in TRANSITIONS:
        assert f"| `{transition.action}` |" in text
