"""#18 in a browser, in English and Dutch: from a dataset page into a request with the MONDO
picker; check and submit; a reviewer opens the ethics letter; after voting the page says how;
the chair sees the quorum before the irreversible close; the requester reads the comments that
asked for changes, what happens next and the decision letter; files are opened, replaced and
removed while the request is editable. Every page is checked with axe-core (and, in Dutch, for
English that escaped translation)."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import Person, small_pdf

DATASET = "leiden-diabetes-cohort"

WORDS = {
    "en": {
        "request_access": "Request access",
        "open_to": "Open to",
        "chosen": "You are asking for access to",
        "submitted": "Request submitted.",
        "your_answers": "Your answers",
        "you_voted": "You voted Request changes.",
        "quorum": "Votes: 2 (at least 2 needed).",
        "decides": "Closing now decides: Request changes.",
        "reasons": "The boards' reasons",
        "next": "What happens next",
        "resubmit": "change the answers and resubmit",
        "letter": "Read the decision letter",
        "letter_title": "Decision: changes requested",
        "replaced": "The file was replaced.",
        "removed": "The file was removed.",
        "saved": "Answers saved",
        "search": "Search diseases by name",
    },
    "nl": {
        "request_access": "Toegang aanvragen",
        "open_to": "Open voor",
        "chosen": "U vraagt toegang tot",
        "submitted": "Aanvraag ingediend.",
        "your_answers": "Uw antwoorden",
        "you_voted": "U stemde: Wijzigingen vragen.",
        "quorum": "Stemmen: 2 (minstens 2 nodig).",
        "decides": "Nu sluiten besluit: Wijzigingen vragen.",
        "reasons": "De redenen van de commissies",
        "next": "Wat er nu gebeurt",
        "resubmit": "pas de antwoorden aan en dien opnieuw in",
        "letter": "Lees de besluitbrief",
        "letter_title": "Besluit: wijzigingen gevraagd",
        "replaced": "Het bestand is vervangen.",
        "removed": "Het bestand is verwijderd.",
        "saved": "Antwoorden opgeslagen",
        "search": "Zoek ziekten op naam",
    },
}


# The new pages' own sentences: none may stay English in the Dutch UI. (Texts these pages show
# from elsewhere, such as the automated checks' explanations, are #18 point 12's to translate.)
OWN_SENTENCES = (
    "What happens next",
    "The boards' reasons",
    "a member of the board",
    "Read the decision letter",
    "Check every answer before you submit",
    "Nothing answered in this section yet",
    "Search diseases by name",
    "Closing now decides",
    "You voted",
    "Answers saved",
    "Request submitted",
    "Decision: changes requested",
    "The review board asks you to change your request before it decides",
    "Nothing in these conditions excludes",
    "You are asking for access to",
    "Waiting for",
    "the members of",
    "Automated consent and legal checks",
    "Prepare and submit",
    "Decision of the data owners",
)


def _assert_clean(people) -> None:
    for person in people.opened:
        assert not person.problems, person.problems


def _step(person: Person, name: str) -> None:
    """A screenshot, axe-core and, on a Dutch page, no English msgid anywhere on the page but in
    what people typed (helpers.USER_TEXT: this test's titles, answers and comments are English),
    and none of our own sentences at all."""
    person.step(name)
    _check_dutch(person)


def _check_dutch(person: Person) -> None:
    """Our own sentences are Dutch on a Dutch page (called on each page of the journey)."""
    if person.lang != "nl":
        return
    text = " ".join(person.page.inner_text("body").split())
    leaked = [s for s in OWN_SENTENCES if s in text]
    assert not leaked, (person.page.url, leaked)


def _draft(title: str):
    """A complete draft of the demo requester, with its ethics letter, made by the services."""
    from accounts.models import User
    from tests.requests.conftest import fill_draft

    requester = User.objects.get(email="requester@demo.lifes.test")
    return fill_draft(requester, [DATASET], title=title)


def _in_review(title: str):
    from accounts.models import User
    from demo.ehds_world import complete_after_checks
    from requests_app import services
    from requests_app.models import RequestState

    request = _draft(title)
    services.request_submit(actor=request.requester, request_id=request.pk)
    complete_after_checks(request)  # the checks, then the access body finds it complete
    request.refresh_from_db()
    assert request.state == RequestState.IN_REVIEW
    assert User.objects.filter(email="member1@demo.lifes.test").exists()
    return request


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_dataset_page_leads_into_a_request_and_the_mondo_picker_names_diseases(
    people, e2e_world, lang
):
    words = WORDS[lang]
    requester: Person = people(lang)
    requester.sign_in("requester@demo.lifes.test")
    page = requester.page
    requester.goto(f"/catalogue/{DATASET}/")
    assert page.locator(".condition-badges .duo-badge").count() >= 2
    assert words["open_to"] in page.inner_text(".request-access")
    _step(requester, "dataset")
    page.click(f"a.button:has-text('{words['request_access']}')")
    page.wait_for_load_state("load")
    assert f"dataset={DATASET}" in page.url
    assert words["chosen"] in page.inner_text("main")
    _step(requester, "new-with-dataset")
    page.fill("input[name=title]", "From the dataset page (e2e)")
    requester.submit("main form button[type=submit]")
    assert page.url.endswith("/edit/project/")
    # nothing is ticked complete before the person has been there (the PI is prefilled)
    assert page.locator("ol.progress li.complete").count() == 0
    # the research types keep DUO's order, page after page
    from consent.duo import RESEARCH_TYPES_IN_ORDER

    order = page.eval_on_selector_all("input[name=research_types]", "els => els.map(e => e.value)")
    assert order == list(RESEARCH_TYPES_IN_ORDER)
    page.reload()
    assert order == page.eval_on_selector_all(
        "input[name=research_types]", "els => els.map(e => e.value)"
    )

    # the disease picker: search by name, add, and the id lands in the field
    page.select_option("select[name=purpose_code]", "DUO:0000007")
    search = page.get_by_label(words["search"])
    # MONDO names diseases in English only (no Dutch labels to ship): the Dutch picker says so
    hints = page.locator(".mondo-picker p.help")
    if lang == "nl":
        assert hints.inner_text() == (
            "MONDO geeft ziektenamen alleen in het Engels: zoek op de Engelse naam of op het "
            "MONDO-id."
        )
        assert search.get_attribute("aria-describedby") == hints.get_attribute("id")
    else:
        assert hints.count() == 0
    search.fill("type 2 diabetes")
    add = page.locator("button[data-mondo-id='MONDO:0005148']")
    add.wait_for()
    _step(requester, "mondo-search")
    add.click()
    assert "MONDO:0005148" in page.input_value("[name=purpose_diseases]")
    assert "type 2 diabetes mellitus" in page.inner_text("ul.mondo-chosen")
    page.fill("textarea[name=lay_summary]", "From the dataset page.")
    requester.submit("#section-form button[type=submit]")
    # saved with its label, named by the server too
    page.goto(page.url.replace("/edit/people/", "/edit/project/"))
    assert "type 2 diabetes mellitus" in page.inner_text("ul.mondo-chosen")
    # the dataset is already chosen in the data section
    page.goto(page.url.replace("/edit/project/", "/edit/data/"))
    assert page.is_checked(f"input[data-slug='{DATASET}']")
    _step(requester, "data-preselected")
    _assert_clean(people)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_check_and_submit_and_files_viewed_replaced_removed(people, e2e_world, lang):
    words = WORDS[lang]
    request = _draft(f"Check and submit ({lang})")
    requester: Person = people(lang)
    requester.sign_in("requester@demo.lifes.test")
    page = requester.page
    base = f"/requests/{request.reference}"

    # the files: open the ethics letter, replace it, remove the replacement, upload again
    requester.goto(f"{base}/edit/settings/")
    letter = request.attachments.get(is_current=True)
    with page.expect_download() as download:
        page.click(f"a[href$='/attachments/{letter.pk}/']")
    assert download.value.suggested_filename == "ethics-approval.pdf"
    page.locator("details.replace summary").first.click()
    page.set_input_files(
        f"#replace-{letter.pk}",
        files=[{"name": "ethics-v2.pdf", "mimeType": "application/pdf", "buffer": small_pdf()}],
    )
    requester.submit("details.replace form button[type=submit]")
    assert words["replaced"] in page.inner_text("main")
    assert "ethics-v2.pdf" in page.inner_text("ul.attachments")
    _step(requester, "replaced")
    requester.submit("ul.attachments form.inline button[type=submit]")
    assert words["removed"] in page.inner_text("main")
    assert page.locator("ul.attachments").count() == 0
    page.select_option("select[name=kind]", "ethics_letter")
    page.set_input_files(
        "form[action$='/attachments/'] input[name=file]",
        files=[{"name": "ethics-v3.pdf", "mimeType": "application/pdf", "buffer": small_pdf()}],
    )
    requester.submit("form[action$='/attachments/'] button[type=submit]")

    # check and submit: every answer by section, each with its way back
    requester.goto(f"{base}/edit/review/")
    summary = page.locator("section.summary")
    assert words["your_answers"] in summary.inner_text()
    assert "METC-2026-042" in summary.inner_text()
    assert "ethics-v3.pdf" in summary.inner_text()
    for section in ("project", "people", "data", "settings", "outputs"):
        assert summary.locator(f"a[href$='/edit/{section}/']").count() == 1, section
    _step(requester, "check-and-submit")
    summary.locator("a[href$='/edit/outputs/']").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/edit/outputs/")
    requester.goto(f"{base}/edit/review/")
    requester.submit("form[action$='/act/submit/'] button[type=submit]")
    assert words["submitted"] in page.inner_text("main")
    assert "Done:" not in page.inner_text("main")
    # the timeline: saves in words, no raw action codes
    timeline = page.inner_text("ol.timeline")
    assert words["saved"] in timeline
    for raw in ("attachment_add", "team_invite", " edit ", "checks_run"):
        assert raw not in timeline, raw
    _step(requester, "submitted")
    _assert_clean(people)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_reviewers_open_the_letter_vote_and_the_requester_reads_why_changes_were_asked(
    people, e2e_world, lang
):
    from accounts.models import User
    from requests_app import services

    words = WORDS[lang]
    request = _in_review(f"Changes asked ({lang})")
    path = request.get_absolute_url()

    # a reviewer opens the ethics letter from the request page, declares and votes
    member: Person = people(lang)
    member.sign_in("member1@demo.lifes.test")
    member.goto(path)
    letter = request.attachments.get(kind="ethics_letter", is_current=True)
    with member.page.expect_download() as download:
        member.page.click(f"ul.attachments a[href$='/attachments/{letter.pk}/']")
    with open(download.value.path(), "rb") as handle:
        assert handle.read().startswith(b"%PDF-")
    member.page.check("input[name=has_conflict][value=no]")
    member.submit("form[action$='/act/declare_conflict/'] button[type=submit]")
    member.page.check("input[name=choice][value=request_changes]")
    member.page.fill("textarea[name=comment]", "REASON-E2E: explain the cell suppression.")
    member.submit("form[action$='/act/vote/'] button[type=submit]")
    assert words["you_voted"] in member.page.inner_text("main")
    assert member.page.locator("input[name=choice]").count() == 0
    _step(member, "voted")

    second = User.objects.get(email="member2@demo.lifes.test")
    services.conflict_declare(actor=second, request_id=request.pk, has_conflict=False)
    services.vote_cast(
        actor=second, request_id=request.pk, choice="request_changes", comment="Shorten it."
    )

    # the chair sees the quorum before the irreversible close, and again on the confirmation
    chair: Person = people(lang)
    chair.sign_in("chair@demo.lifes.test")
    chair.goto(path)
    quorum = chair.page.inner_text("form[action$='/act/close_round/'] .quorum")
    assert words["quorum"] in quorum
    assert words["decides"] in quorum
    _step(chair, "before-close")
    chair.page.fill("form[action$='/act/close_round/'] textarea[name=note]", "See the comments.")
    chair.submit("form[action$='/act/close_round/'] button[type=submit]")
    assert words["decides"] in chair.page.inner_text("main .quorum")
    _step(chair, "confirm")
    chair.submit("main form button.danger")

    # the requester reads the board's reasons, what happens next, and the decision letter
    requester: Person = people(lang)
    requester.sign_in("requester@demo.lifes.test")
    requester.goto(path)
    main = requester.page.inner_text("main")
    assert words["reasons"] in main
    assert "REASON-E2E: explain the cell suppression." in main
    assert "Shorten it." in main
    assert "Mila Member" not in main  # no voter named
    assert "Mo Member" not in main
    assert words["next"] in main
    assert words["resubmit"] in main
    assert requester.page.locator("input[name=is_internal]").count() == 0
    _step(requester, "changes-requested")

    # a refused comment keeps the text (over the limit: the browser's maxlength lifted)
    long_text = "KEEP-ME " + "x" * 5000
    requester.page.eval_on_selector(
        "#comment-form textarea[name=body]", "el => el.removeAttribute('maxlength')"
    )
    requester.page.fill("#comment-form textarea[name=body]", long_text)
    requester.submit("#comment-form button[type=submit]")
    assert requester.page.input_value("#comment-form textarea[name=body]") == long_text
    assert requester.page.locator("#comment-form .error").count() >= 1

    requester.page.click(f"text={words['letter']} >> nth=0")
    requester.page.wait_for_load_state("load")
    assert words["letter_title"] in requester.page.inner_text("main")
    assert "REASON-E2E" in requester.page.inner_text("main")
    _step(requester, "letter")
    pdf = requester.page.request.get(requester.base + f"/reports/letters/{request.reference}.pdf")
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF-")

    # someone else's letter: not found
    outsider: Person = people(lang)
    outsider.sign_in("auditor@demo.lifes.test")  # sees every request: gets the letter
    assert (
        outsider.page.request.get(outsider.base + f"/reports/letters/{request.reference}/").status
        == 200
    )
    owner: Person = people(lang)
    owner.sign_in("owner@demo.lifes.test")
    other = _draft(f"Not the owner's ({lang})")
    assert owner.page.request.get(owner.base + f"/reports/letters/{other.reference}/").status == 404
    _assert_clean(people)
