"""The whole journey of an access request, in a real browser, by every role, in English and
Dutch: each page is checked with axe-core and, in Dutch, for English that escaped translation."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.helpers import Person, small_pdf

DATASET = "leiden-diabetes-cohort"
DOSSIER = "main form:has(input[name=kind][value=dossier])"
# How the DUO matcher's first reason for this purpose begins, in each language
REASON = {
    "en": "The proposed research on type 2 diabetes mellitus (MONDO:0005148)",
    "nl": "Het voorgestelde onderzoek naar type 2 diabetes mellitus (MONDO:0005148)",
}


def _problems_of(people: list[Person]) -> dict:
    merged: dict = {}
    for person in people:
        for kind, items in person.problems.items():
            merged.setdefault(kind, []).extend(items)
    return merged


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_request_travels_from_catalogue_to_permit_and_dossier(people, e2e_world, lang):
    base = e2e_world

    def person(email: str) -> Person:
        someone = people(lang)
        someone.sign_in(email)
        return someone

    today = dt.datetime.now(tz=dt.UTC).date()
    # the requester signs in and finds datasets in the catalogue
    requester = person("requester@demo.lifes.test")
    requester.step("dashboard")
    page = requester.page
    page.click("header nav a[href$='/catalogue/']")
    requester.step("catalogue")
    page.click(f"main a[href$='/{DATASET}/']")
    requester.step("dataset")
    requester.goto("/requests/")
    page.click("main a[href$='/requests/new/']")
    requester.step("new")
    page.fill("input[name=title]", "HbA1c in diabetes type 2 (e2e)")
    requester.submit("main form button[type=submit]")

    # section 1: the project
    page.fill("textarea[name=lay_summary]", "HbA1c e2e.")
    page.fill("textarea[name=scientific_abstract]", "Federated means, cells of 10 or more.")
    page.select_option("select[name=ehds_category]", "e")
    page.select_option("select[name=purpose_code]", "DUO:0000007")
    page.fill("[name=purpose_diseases]", "MONDO:0005148")
    page.check("input[name=no_prohibited_use]")
    page.fill("textarea[name=public_benefit]", "Better diabetes care.")
    page.check("input[name=no_stigmatisation]")
    requester.step("wizard-project")
    requester.submit("#section-form button[type=submit]")

    # section 2: the people
    page.fill("input[name=pi_name]", "Rana Requester")
    page.fill("input[name=pi_email]", "requester@demo.lifes.test")
    requester.step("wizard-people")
    requester.submit("#section-form button[type=submit]")

    # section 3: the data, with the live compatibility check
    page.check(f"input[data-slug='{DATASET}']")
    verdict = page.locator(f"[data-compat-for='{DATASET}']")
    page.wait_for_function(
        "slug => document.querySelector(`[data-compat-for='${slug}']`).textContent.length",
        arg=DATASET,
    )
    assert "compat-compatible" in verdict.get_attribute("class"), verdict.inner_text()
    # the matcher's reasons in the page's language (in Dutch, the catalogue's words)
    assert REASON[lang] in verdict.inner_text(), verdict.inner_text()
    requester.step("wizard-data")
    requester.submit("#section-form button[type=submit]")

    # section 4: the settings, with the ethics approval letter uploaded through the form
    page.select_option("select[name=kind]", "ethics_letter")
    page.set_input_files(
        "input[name=file]",
        files=[
            {"name": "ethics-approval.pdf", "mimeType": "application/pdf", "buffer": small_pdf()}
        ],
    )
    requester.submit("form[action$='/attachments/'] button[type=submit]")
    # listed once, as a link that opens it (its Remove and Replace buttons name it to screen readers)
    assert page.locator("ul.attachments a", has_text="ethics-approval.pdf").count() == 1
    page.locator("input[name=algorithms]").first.check()
    page.select_option("select[name=gdpr_art6_basis]", "e")
    page.select_option("select[name=gdpr_art9_basis]", "j")
    page.fill("input[name=ethics_reference]", "METC-2026-042")
    page.fill("input[name=ethics_committee]", "METC Leiden Den Haag Delft")
    page.fill("input[name=ethics_expires_on]", "2029-12-31")
    requester.step("wizard-settings")
    requester.submit("#section-form button[type=submit]")

    # section 5: the outputs
    page.fill("textarea[name=expected_outputs]", "Counts and means per group.")
    page.fill("input[name=period_start]", (today + dt.timedelta(days=7)).isoformat())
    page.fill("input[name=period_end]", (today + dt.timedelta(days=365)).isoformat())
    requester.step("wizard-outputs")
    requester.submit("#section-form button[type=submit]")

    # review and submit; the automated checks run (eager Celery, after commit)
    assert page.url.endswith("/edit/review/"), page.inner_text("main")
    requester.step("wizard-review")
    requester.submit("form[action$='/act/submit/'] button[type=submit]")
    request_url = page.url
    assert page.locator(".checks li").count() >= 3, page.inner_text("main")
    assert REASON[lang] in page.inner_text(".checks"), page.inner_text(".checks")
    requester.step("submitted")
    path = request_url.removeprefix(base)

    # the access body's staff find the application complete: the decision deadline starts
    staff = person("admin@demo.lifes.test")
    staff.goto(path)
    staff.step("request")
    staff.submit("form[action$='/act/accept_complete/'] button[type=submit]")
    assert staff.page.locator(".ehds-clock .clock").count() == 1, staff.page.inner_text("main")
    staff.step("complete")

    # two board members declare no conflict and vote
    for email in ("member1@demo.lifes.test", "member2@demo.lifes.test"):
        member = person(email)
        member.goto(path)
        member.step("request")
        member.page.check("input[name=has_conflict][value=no]")
        member.submit("form[action$='/act/declare_conflict/'] button[type=submit]")
        member.page.check("input[name=choice][value=approve]")
        member.step("declared")
        member.submit("form[action$='/act/vote/'] button[type=submit]")
        member.step("voted")

    # the chair closes the round, after confirming
    chair = person("chair@demo.lifes.test")
    chair.goto(path)
    chair.step("request")
    chair.submit("form[action$='/act/close_round/'] button[type=submit]")
    chair.step("confirm")
    chair.submit("main form button.danger")
    chair.step("closed")

    # the owner grants; the permit follows
    owner = person("owner@demo.lifes.test")
    owner.goto("/requests/")
    owner.step("dashboard")
    owner.goto(path)
    owner.page.check("input[name=decision][value=granted]")
    owner.step("request")
    owner.submit("form[action$='/act/decide_dataset/'] button[type=submit]")
    owner.step("granted")
    assert owner.page.locator(".state-permitted, .state-approved").count() >= 1

    # the requester sees the permit on the request page
    requester.goto(path)
    assert requester.page.locator("#permits-h").count() == 1
    issue = requester.page.locator("form[action*='/issue'] button[type=submit]")
    if issue.count():  # only when the permit is not issued at once (a worker issues it)
        requester.submit("form[action*='/issue'] button[type=submit]")
    assert requester.page.locator("#permits-h ~ article h3 a").count() == 1
    requester.step("permit")

    # the auditor reads the request and downloads the dossier PDF
    auditor = person("auditor@demo.lifes.test")
    auditor.goto(path)
    auditor.step("request")
    assert auditor.page.locator(DOSSIER).count() == 1
    _download_dossier(auditor)

    problems = _problems_of(people.opened)
    assert not problems.get("axe"), _describe(problems["axe"])
    assert not problems.get("english"), _describe(problems["english"])


def _describe(problems: list) -> str:
    return "\n".join(f"{name} {url}: {found}" for name, url, found in problems)


def _download_dossier(auditor: Person) -> None:
    """The dossier is built by a task (eager here); its page then offers the PDF."""
    auditor.submit(f"{DOSSIER} button[type=submit]")
    auditor.step("dossier")
    link = auditor.page.locator("main a[href$='/download']").first
    link.wait_for(timeout=30_000)
    response = auditor.page.request.get(auditor.base + link.get_attribute("href"))
    assert response.status == 200
    assert response.body().startswith(b"%PDF-")
