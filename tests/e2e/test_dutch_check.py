"""The Dutch check itself (tests/e2e/helpers.py ``english_on_page``), on pages written here: it
flags an English label of two words that Dutch translates, an English sentence, English in a
label attribute; it does not flag the same words inside longer text, nor what people typed."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import english_labels, english_on_page, english_sentences


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    yield page
    context.close()


def _dutch(page, body: str) -> list[str]:
    page.set_content(f"<!doctype html><html lang='nl'><body>{body}</body></html>")
    return english_on_page(page)


def test_the_catalogue_gives_the_check_short_labels_and_sentences():
    assert {"Request access", "Changes requested", "Audit log"} <= english_labels()
    assert "No comments yet" in english_sentences()
    assert "Toegang aanvragen" not in english_labels()


def test_a_two_word_english_label_on_a_dutch_page_is_flagged(page):
    assert _dutch(page, "<main><h1>Dataset</h1><a href='/x'>Request access</a></main>") == [
        "Request access"
    ]
    assert _dutch(page, "<p><span class='state'>Changes requested</span> sinds gisteren</p>") == [
        "Changes requested"
    ]
    assert _dutch(page, "<nav aria-label='Audit log'><a href='/'>Start</a></nav>") == ["Audit log"]
    assert _dutch(page, "<button>Audit log:</button>") == ["Audit log"]


def test_an_english_sentence_is_flagged_inside_longer_text(page):
    assert _dutch(page, "<p>Opmerkingen: No comments yet. Schrijf de eerste.</p>") == [
        "No comments yet"
    ]


def test_dutch_and_english_words_inside_longer_text_are_not_flagged(page):
    assert _dutch(page, "<a href='/x'>Toegang aanvragen</a><p>Nog geen opmerkingen.</p>") == []
    # two words of a label inside a longer text are not that label
    assert _dutch(page, "<p>Wij request access bij de houder.</p>") == []
    # a sentence's words run into a longer word: not the sentence
    assert _dutch(page, "<p>xNo comments yet</p>") == []


def test_what_people_typed_is_left_out(page):
    typed = "<h1 data-typed>Request access</h1><dd data-typed>No comments yet, in English.</dd>"
    assert _dutch(page, typed + "<textarea>Audit log</textarea>") == []
    assert _dutch(page, typed + "<p>Audit log</p>") == ["Audit log"]


def test_typed_text_inside_a_section_is_left_out_of_the_section_too(page):
    section = (
        "<section><h2>Gebruiksvoorwaarden</h2><div data-typed>No comments yet.</div></section>"
    )
    assert _dutch(page, section) == []
    assert _dutch(page, section.replace("Gebruiksvoorwaarden", "Data-use terms")) == [
        "Data-use terms"
    ]


def test_commands_a_msgid_quotes_as_code_are_not_english():
    assert not any("manage.py permit_token" in s for s in english_sentences())
