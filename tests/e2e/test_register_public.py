"""#18 point 5 as the public meets it: the register names each project by its title and lay
summary and its purpose in words (no DUO codes), and shows refusals with their justification,
in English and Dutch, to a visitor who is not signed in."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import full_demo

WORDS = {
    "en": {
        "why": "Why refused:",
        "refused": "Refused application",
        "why_entry": "Why it was refused",
    },
    "nl": {
        "why": "Reden van weigering:",
        "refused": "Geweigerde aanvraag",
        "why_entry": "Waarom zij is geweigerd",
    },
}
REFUSED_TITLE = "Biomarker discovery for a commercial assay"


@pytest.fixture
def register_site(e2e_world):
    """The whole demo: a refusal and a finished permit with a published result are on the
    register (``demo.register_world``)."""
    full_demo()
    return e2e_world


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_register_shows_projects_purposes_in_words_and_refusals_with_reasons(
    people, register_site, lang
):
    from django.utils import translation

    from demo.requests_world import REJECTION_NOTE
    from permits.models import Permit, PermitStatus
    from permits.register import purpose_in_words

    published = Permit.objects.filter(status=PermitStatus.CLOSED).order_by("pk").first()
    visitor = people(lang)
    visitor.goto("/register/")
    if lang != "en":
        visitor.switch_language()
    visitor.step("register")
    listing = visitor.page.inner_text("main")

    # a permit: its project's title and lay summary, its purpose in words
    assert published.request.title in listing
    assert published.request.lay_summary.split(".")[0][:60] in listing
    assert "DUO:" not in listing
    assert "MONDO:" not in listing
    # ... the labels of its DUO terms and diseases, in the visitor's language
    with translation.override(lang):
        words = purpose_in_words(
            published.purpose_codes,
            published.purpose_diseases,
            is_commercial=published.is_commercial,
        )
    assert len(words) >= 2, words
    row = visitor.page.get_by_role("row").filter(has_text=published.request.title).inner_text()
    for word in words:
        assert word in row, (word, row)
    # a refusal, with why
    assert REFUSED_TITLE in listing
    assert WORDS[lang]["why"] in listing

    # the refusal's own entry gives the whole justification, and names nobody
    visitor.page.get_by_role("row").filter(has_text=REFUSED_TITLE).get_by_role("link").first.click()
    visitor.page.wait_for_load_state("load")
    visitor.step("refusal")
    entry = visitor.page.inner_text("main")
    assert WORDS[lang]["refused"] in entry
    assert WORDS[lang]["why_entry"] in entry
    assert REJECTION_NOTE[:80] in entry
    assert "@" not in entry  # no e-mail address of anyone
