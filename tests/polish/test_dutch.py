"""#18 point 12: Dutch is complete where people read it: DUO labels, check titles, outcomes and
explanations, timeline actions and states; dates carry their time zone."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from consent import duo_i18n
from consent.vocabulary import DUO_JSON
from requests_app.journey import timeline_label
from requests_app.models import RequestState
from requests_app.workflow import TRANSITIONS

PO = Path(__file__).resolve().parents[2] / "locale" / "nl" / "LC_MESSAGES" / "django.po"


def test_every_duo_label_is_marked_for_translation_and_translated():
    labels = {term["label"] for term in json.loads(DUO_JSON.read_text())["terms"]}
    assert set(duo_i18n.LABELS) == labels
    with translation.override("nl"):
        untranslated = [label for label in labels if translation.gettext(label) == label]
    assert untranslated == []


def test_duo_labels_and_the_filter_speak_dutch():
    with translation.override("nl"):
        assert duo_i18n.duo_label("DUO:0000007") == "ziektespecifiek onderzoek"
        choices = dict(duo_i18n.duo_filter_choices())
    assert choices["DUO:0000007"] == "ziektespecifiek onderzoek (DS)"
    assert duo_i18n.duo_label("DUO:9999999") == "DUO:9999999"


def test_every_transition_has_timeline_words_in_both_languages():
    english = {t.action: timeline_label(t.action) for t in TRANSITIONS}
    with translation.override("nl"):
        dutch = {t.action: timeline_label(t.action) for t in TRANSITIONS}
        assert timeline_label("submit") == "Aanvraag ingediend"
        assert str(RequestState.IN_REVIEW.label) == "In beoordeling"
        assert timeline_label("something_new") == "Something new"
    assert [action for action in english if english[action] == dutch[action]] == []
    assert timeline_label("submit") == "Request submitted"


def test_the_catalogue_has_no_untranslated_or_fuzzy_entry():
    result = subprocess.run(
        ["/usr/bin/msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "1 Dec 2026, 14:05 CET"), ("nl", "1 december 2026, 14:05 CET")],
)
def test_times_carry_their_zone_in_european_order(lang, expected):
    moment = dt.datetime(2026, 12, 1, 13, 5, tzinfo=dt.UTC)
    with translation.override(lang), timezone.override("Europe/Amsterdam"):
        shown = Template('{{ t|date:"DATETIME_FORMAT" }}').render(Context({"t": moment}))
        short = Template('{{ t|date:"SHORT_DATE_FORMAT" }}').render(Context({"t": moment}))
    assert shown == expected
    assert "12/01/2026" not in short


@pytest.mark.django_db
def test_every_action_on_the_demos_requests_has_timeline_words_in_dutch():
    """What the demo's requests record (transitions, saves, checks, the EHDS decision deadline,
    data minimisation) reads as words in both languages, never as the action's own name."""
    from audit.models import AuditEvent
    from demo.world import seed_demo
    from requests_app.workflow import LEGACY_AUDIT_ACTIONS

    seed_demo()
    recorded = {
        LEGACY_AUDIT_ACTIONS.get(action, action).removeprefix("request.")
        for action in AuditEvent.objects.filter(
            object_type="requests_app.accessrequest"
        ).values_list("action", flat=True)
    }
    assert {"submit", "checks_run", "minimisation_set", "clock_stopped"} <= recorded
    fallback = {action: action.replace("_", " ").capitalize() for action in recorded}
    english = {action: timeline_label(action) for action in recorded}
    with translation.override("nl"):
        dutch = {action: timeline_label(action) for action in recorded}
    assert sorted(a for a in recorded if english[a] == fallback[a]) == []
    assert sorted(a for a in recorded if dutch[a] == english[a]) == []
    assert dutch["minimisation_set"] == "Dataminimalisatie beantwoord"
    assert dutch["clock_stopped"] == "Beslistermijn gestopt"
