"""#18, the points of journey-polish, as people meet them in a browser, in English and Dutch
where the words matter: sign-in lands on the dashboard, stewards find Consent, the token page,
ORCID refusals, a permit that is not yet valid, the certificate, Dutch timeline and checks,
European dates, the catalogue's condition filter, the audit explorer's "verify now", the
reports form, the metrics charts, and pages that fit a phone."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.utils import timezone

from tests.e2e.conftest import built_once, full_demo
from tests.e2e.helpers import LONG_DATASET, LONG_REASON, english_sentences, runs_recorded

PHONE = {"width": 360, "height": 780}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 900}
IPHONE = {"width": 390, "height": 844}
WORDS = {
    "en": {
        "not_yet": "Not yet valid",
        "copied": "Copied",
        "orcid": "ORCID iD",
        "submitted": "Request submitted",
        "checks": "Consenting participants",
        "bad_duo": "is not a data-use condition the catalogue knows",
        "verify": "Verify the log now",
        "verifying": "The log is being verified",
        "valid_to": "to 30 Nov 2027 inclusive",
    },
    "nl": {
        "not_yet": "Nog niet geldig",
        "copied": "Gekopieerd",
        "orcid": "ORCID iD",
        "submitted": "Aanvraag ingediend",
        "checks": "Deelnemers die toestemming gaven",
        "bad_duo": "is geen gebruiksvoorwaarde die de catalogus kent",
        "verify": "Controleer het logboek nu",
        "verifying": "Het logboek wordt gecontroleerd",
        "valid_to": "tot en met 30 november 2027",
    },
}


#: Runs the node reports on the demo permit (the demo itself seeds none): the receipts table
#: made the permit page 1,613 px wide at 1,280 px (#18 point 11).
RUNS = 6


@pytest.fixture
def demo_site(e2e_world, tmp_path):
    """The whole demo, with its requests in every state and the permitted one, whose node has
    reported several runs (receipts with the longest values a node may send, and outputs)."""

    def build():
        full_demo()
        runs_recorded(_permit(), tmp_path / "node", count=RUNS)

    built_once("journey_polish_demo_site", build)
    return e2e_world


def _width(person) -> tuple[int, int]:
    return tuple(person.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"))


#: The narrowest a cell of the receipts table may be: narrower, a column shows a word a letter
#: or two per line (as it did on a phone before the table stacked there).
CELL_MIN_PX = 60
CELLS_JS = (
    "Array.from(document.querySelectorAll('table.receipts th, table.receipts td'))"
    ".filter(e => e.offsetParent).map(e => Math.round(e.getBoundingClientRect().width))"
)


def _readable(person) -> int:
    """The width of the narrowest visible cell of the receipts tables on the page."""
    return min(person.page.evaluate(CELLS_JS))


def _permit():
    from permits.models import Permit

    return Permit.objects.order_by("pk").first()


# --- 16: signing in, navigation, anonymous audit, e-mail links ------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_signing_in_lands_on_the_dashboard_and_stewards_find_consent(people, lang):
    requester = people(lang)
    requester.sign_in("requester@demo.lifes.test")
    assert requester.page.url.endswith("/requests/")
    assert requester.page.locator("header nav a[href='/consent/']").count() == 0
    requester.step("dashboard")

    owner = people(lang)
    owner.sign_in("owner@demo.lifes.test")
    assert owner.page.url.endswith("/requests/")
    owner.page.click("header nav a[href='/consent/']")
    assert owner.page.url.endswith("/consent/")
    owner.step("consent")
    assert not owner.problems, owner.problems
    assert not requester.problems, requester.problems


def test_anonymous_audit_asks_to_sign_in_and_then_opens_it(people):
    auditor = people("en")
    auditor.goto("/audit/")
    assert "/accounts/login/?next=/audit/" in auditor.page.url
    auditor.page.fill("input[name=username]", "auditor@demo.lifes.test")
    auditor.page.fill("input[name=password]", "demo-lifes-2026")
    auditor.submit("main form button[type=submit]")
    assert auditor.page.url.endswith("/audit/")


# --- 9: the API token ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_token_page_shows_the_header_copies_and_does_not_repeat(people, lang):
    from accounts.models import ApiToken, User

    requester = people(lang)
    requester.context.grant_permissions(["clipboard-read", "clipboard-write"])
    requester.sign_in("requester@demo.lifes.test")
    user = User.objects.get(email="requester@demo.lifes.test")
    requester.goto("/accounts/profile/")
    assert "Authorization: Token <key>" in requester.page.inner_text("main")
    before = ApiToken.objects.filter(user=user).count()

    requester.page.fill("input[name=name]", "e2e script")
    requester.submit("form[action$='/accounts/tokens/'] button[type=submit]")
    assert requester.page.url.endswith("/accounts/tokens/created/")
    key = requester.page.inner_text("#new-token").strip()
    assert f"Authorization: Token {key}" in requester.page.inner_text("main")
    requester.page.click("button[data-copy=new-token]")
    requester.page.wait_for_function(
        "t => document.querySelector('[data-copy-status=new-token]').textContent === t",
        arg=WORDS[lang]["copied"],
    )
    assert requester.page.evaluate("navigator.clipboard.readText()") == key
    requester.step("token")

    requester.page.reload()
    assert requester.page.url.endswith("/accounts/profile/")
    assert key not in requester.page.content()
    assert ApiToken.objects.filter(user=user).count() == before + 1
    assert not requester.problems, requester.problems


# --- 10: ORCID iDs ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_wizard_refuses_an_orcid_without_its_check_digit(people, lang):
    from accounts.models import User
    from requests_app import services

    requester = people(lang)
    requester.sign_in("requester@demo.lifes.test")
    draft = services.request_create(
        actor=User.objects.get(email="requester@demo.lifes.test"), title="ORCID check"
    )
    for bad in ("1234-5678", "xyz", "0000-0002-1825-0098"):
        requester.goto(f"/requests/{draft.reference}/edit/people/")
        requester.page.fill("[name=pi_orcid]", bad)
        requester.submit("#section-form button[type=submit]")
        error = requester.page.locator(".has-error .error")
        assert error.count() >= 1, requester.page.inner_text("main")
        draft.refresh_from_db()
        assert draft.pi_orcid != bad
    requester.step("orcid-refused")
    requester.goto(f"/requests/{draft.reference}/edit/people/")
    requester.page.fill("[name=pi_orcid]", "https://orcid.org/0000-0002-1825-0097")
    requester.submit("#section-form button[type=submit]")
    draft.refresh_from_db()
    assert draft.pi_orcid == "0000-0002-1825-0097"


# --- 8, 11, 4: the permit page, its certificate -------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_permit_not_yet_valid_says_so_with_its_days_and_fits_every_screen(
    people, demo_site, lang
):
    from permits.models import Permit

    permit = _permit()
    start = timezone.now() + dt.timedelta(days=20)
    until = timezone.make_aware(dt.datetime(2027, 12, 1))  # noqa: DTZ001 (the hub's zone)
    Permit.objects.filter(pk=permit.pk).update(valid_from=start, valid_until=until)
    requester = people(lang)
    requester.sign_in("requester@demo.lifes.test")
    requester.goto(f"/permits/{permit.number}/")

    status = requester.page.locator("main .state").first.inner_text()
    assert status == WORDS[lang]["not_yet"]
    facts = requester.page.inner_text("#facts-h + dl")
    assert WORDS[lang]["valid_to"] in facts, facts
    assert "midnight" not in facts
    assert "middernacht" not in facts
    # the node's runs are on the page, longest values included: the table that overflowed
    receipts = requester.page.locator("section[aria-labelledby=receipts-h] tbody tr")
    assert receipts.count() == RUNS
    table = requester.page.inner_text("section[aria-labelledby=receipts-h]")
    assert LONG_DATASET in table.replace("\n", "")
    assert LONG_REASON in table.replace("\n", "")
    assert requester.page.locator("section#results ul.run-results li").count() == RUNS // 3
    requester.step("permit")
    for viewport in (DESKTOP, TABLET, IPHONE, PHONE):
        requester.page.set_viewport_size(viewport)
        assert _width(requester)[0] <= viewport["width"], (viewport, _width(requester))
        assert _readable(requester) >= CELL_MIN_PX, (viewport, _readable(requester))
    assert not requester.problems, requester.problems


def _report_pdf(person, button: str = "#report-form button[type=submit]") -> tuple[str, object]:
    """Build the report the form on screen asks for, download it, and return its text (one
    space between words) with its row."""
    from pypdf import PdfReader

    from reports.models import Report

    person.submit(button)
    link = person.page.locator("#report-download a")
    link.wait_for(timeout=30_000)
    href = link.get_attribute("href")
    response = person.page.request.get(person.base + href)
    assert response.status == 200, href
    pdf = response.body()
    assert pdf.startswith(b"%PDF-")
    text = " ".join(
        " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    report = Report.objects.get(pk=int(re.search(r"/reports/(\d+)/", href).group(1)))
    return text, report


def test_the_certificate_states_conditions_in_words(people, demo_site):
    from audit.models import AuditEvent, AuditTreeHead
    from consent import vocabulary

    permit = _permit()
    assert permit.purpose_codes
    assert permit.purpose_diseases, "the demo permit names a disease"
    requester = people("en")
    requester.sign_in("requester@demo.lifes.test")
    requester.goto(f"/permits/{permit.number}/")
    # the permit page says the purpose in words too
    facts = " ".join(requester.page.inner_text("#facts-h + dl").split())
    for disease in permit.purpose_diseases:
        assert vocabulary.mondo_label(disease) in facts, facts
    requester.page.click("main a[href*='/reports/certificate/']")
    text, report = _report_pdf(requester)
    assert "Done" == requester.page.inner_text("#report-message").strip()
    assert "{'" not in text
    assert "datasets:" not in text

    # the purpose row: each DUO term and disease by its label, the code only beside it
    purpose = text.split("Purpose", 1)[1].split("Valid", 1)[0]
    for code in permit.purpose_codes:
        term = vocabulary.duo_term(code)
        assert f"{term.label} ({term.shorthand}, {code})".lower() in purpose.lower(), purpose
    for disease in permit.purpose_diseases:
        assert f"{vocabulary.mondo_label(disease)} ({disease})" in purpose, purpose
    if "DUO:0000007" in permit.purpose_codes:
        label = vocabulary.mondo_label(permit.purpose_diseases[0])
        assert f"Disease specific research (DS, DUO:0000007): {label}" in purpose, purpose

    # the log section states what was verified, as the audit log recorded it
    (event,) = AuditEvent.objects.filter(
        action="report.generated", object_type="reports.report", object_id=str(report.pk)
    )
    size, heads = event.payload["verified_size"], event.payload["tree_heads_checked"]
    assert size >= 1
    assert 0 <= heads <= AuditTreeHead.objects.filter(tree_size__lte=size).count()
    head = AuditTreeHead.objects.get(tree_size=report.head_seq)
    assert head.root_hash == report.head_hash
    assert f"Signed tree head: {report.head_seq} events." in text
    assert head.root_hash in text.replace(" ", "")
    intact = f"Verification: the log is intact up to event #{size}; every leaf and node was"
    assert intact in text, text[-1500:]
    if heads == 0:
        assert "No signed tree head was there to compare yet." in text
        assert "matched" not in text
    elif heads == 1:
        assert "recomputed and the 1 signed tree head matched." in text
    else:
        assert f"recomputed and all {heads} signed tree heads matched." in text


def _figure(text: str, before: str, label: str, after: str) -> int:
    """The number after ``label`` in the part of ``text`` between ``before`` and ``after``."""
    part = text.split(before, 1)[1].split(after, 1)[0]
    found = re.search(rf"{re.escape(label)} (\d+)", part)
    assert found, (label, part)
    return int(found.group(1))


def test_a_data_holders_period_report_counts_the_permits_for_their_data(people, demo_site):
    from accounts.models import Organisation, User
    from permits.models import Permit
    from requests_app.models import AccessRequest
    from requests_app.selectors import requests_visible_to

    owner = User.objects.get(email="owner@demo.lifes.test")
    holder = Organisation.objects.get(name="Leiden University Medical Center")
    requesting = set(Permit.objects.values_list("holder_organisation__name", flat=True))
    assert holder.name not in requesting  # the permits are held by the requesting organisation
    today = timezone.localdate()
    since = today - dt.timedelta(days=365)

    steward = people("en")
    steward.sign_in("owner@demo.lifes.test")
    steward.goto("/reports/")
    page = steward.page
    page.select_option("select[name=kind]", "period")
    # a steward is offered their own organisation only, not the whole hub
    offered = page.locator("select[name=organisation] option").all_inner_texts()
    assert offered == [holder.name], offered
    page.fill("input[name=period_start]", since.isoformat())
    page.fill("input[name=period_end]", today.isoformat())
    text, report = _report_pdf(steward)
    assert report.requested_by == owner
    assert report.organisation == holder
    assert f"Period report: {holder.name}" in text

    # the figures are those of the requests for their data that they may see: not zeros
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
    theirs = AccessRequest.objects.filter(
        requested_datasets__dataset__owner=holder,
        pk__in=requests_visible_to(owner),
        created_at__gte=start,
        created_at__lt=end,
    ).distinct()
    issued = (
        Permit.objects.filter(
            permit_datasets__dataset__owner=holder,
            request__in=theirs.values("pk"),
            issued_at__gte=start,
            issued_at__lt=end,
        )
        .distinct()
        .count()
    )
    total = _figure(text, "Requests created, by current state", "Total", "Decision times")
    assert total == theirs.count() > 0, text[:1500]
    assert _figure(text, "Permits", "Issued", "Node executions") == issued > 0
    for state in ("approved", "rejected"):
        label = AccessRequest(state=state).get_state_display()
        shown = _figure(text, "Requests created, by current state", label, "Total")
        assert shown == theirs.filter(state=state).count(), (state, shown)
    assert not steward.problems, steward.problems


def test_a_requesters_dossier_carries_the_comments_they_may_read(people, demo_site):
    from requests_app.models import AccessRequest, Comment, RequestState

    request = (
        AccessRequest.objects.filter(
            requester__email="requester@demo.lifes.test", state=RequestState.IN_REVIEW
        )
        .order_by("pk")
        .first()
    )
    internal = Comment.objects.filter(request=request, is_internal=True).first()
    assert internal is not None, "the demo's internal note on the request in review"
    words = "Our cohort size is 412; small cells are suppressed below 10."

    requester = people("en")
    requester.sign_in("requester@demo.lifes.test")
    requester.goto(f"/requests/{request.reference}/")
    requester.page.fill("#comment-form textarea[name=body]", words)
    requester.submit("#comment-form button[type=submit]")
    assert Comment.objects.filter(request=request, body=words, is_internal=False).exists()
    assert words in requester.page.inner_text("main")

    text, report = _report_pdf(requester, "#dossier-h ~ form button[type=submit]")
    assert report.kind == "dossier"
    assert report.subject == request.reference
    comments = text.split("Data owners' decisions", 1)[0].rsplit("Comments", 1)[1]
    assert words in comments, comments[:1500]
    assert "No comments." not in comments
    assert " ".join(internal.body.split()) not in text
    assert not requester.problems, requester.problems


# --- 12: Dutch timeline, checks, labels; European dates -----------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_request_page_speaks_the_readers_language_and_dates(people, demo_site, lang):
    from requests_app.models import AccessRequest

    request = (
        AccessRequest.objects.filter(
            requester__email="requester@demo.lifes.test", checks__isnull=False
        )
        .distinct()
        .order_by("pk")
        .first()
    )
    requester = people(lang)
    requester.sign_in("requester@demo.lifes.test")
    requester.goto(f"/requests/{request.reference}/")
    main = requester.page.inner_text("main")
    timeline = requester.page.inner_text("#timeline-h ~ ol")
    assert WORDS[lang]["submitted"] in timeline
    # what the hub did by itself (the checks ran) is the system's, in the reader's words
    assert re.search(r"· system$" if lang == "en" else r"· systeem$", timeline, re.M), timeline
    if lang == "nl":
        assert not re.search(r"\bsystem\b", timeline), timeline
    assert WORDS[lang]["checks"] in requester.page.inner_text(".checks")
    # the DUO matcher's reasons, read from the stored result in the reader's language
    from django.utils import translation

    duo_check = request.checks.filter(name="duo_compatibility").latest("round")
    with translation.override(lang):
        reasons = duo_check.shown_explanation
    with translation.override("en"):
        english = duo_check.shown_explanation
    assert " ".join(reasons.split()) in " ".join(requester.page.inner_text(".checks").split())
    assert (reasons == english) == (lang == "en"), reasons
    stamp = requester.page.locator(".timeline time").first.inner_text()
    assert re.fullmatch(r"\d{1,2}[ -]\S+[ -]\d{4},? \d{2}:\d{2} CES?T", stamp), stamp
    assert not re.search(r"\b\d{2}/\d{2}/\d{4}\b", main)
    # axe, and in Dutch no English msgid on the whole page but in what people typed
    # (helpers.USER_TEXT: the demo's answers are English); the hub's own words first, as such
    requester.step("request")
    if lang == "nl":
        ours = requester.page.locator(
            ".timeline, .checks, main h2, main h3, main dt, main th, main .state"
        ).all_inner_texts()
        leaked = sorted(s for s in english_sentences() if s in " ".join(" ".join(ours).split()))
        assert leaked == [], leaked
        for english in ("submit", "in_review", "duo_compatibility", "cohort_size"):
            assert not re.search(rf"(?<![\w/.-]){english}(?![\w/.-])", main), english
    assert not requester.problems, requester.problems


# --- 17: catalogue, audit explorer, reports form, metrics ---------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_catalogue_filters_by_a_condition_from_a_list_and_shows_badges(people, lang):
    visitor = people(lang)
    visitor.goto("/")
    visitor.switch_language()
    visitor.goto("/catalogue/?duo=DS")
    assert WORDS[lang]["bad_duo"] in visitor.page.inner_text("main")
    visitor.goto("/catalogue/")
    assert visitor.page.locator("select[name=duo] option[value='DUO:0000007']").count() == 1
    assert visitor.page.locator(".conditions-badges li").count() >= 3
    visitor.page.select_option("select[name=duo]", "DUO:0000007")
    visitor.submit("main form.filters button[type=submit]")
    assert "duo=DUO%3A0000007" in visitor.page.url
    titles = visitor.page.locator(".results h2").all_inner_texts()
    assert titles
    assert all(titles)
    for badges in visitor.page.locator(".results .conditions-badges").all():
        assert "DS" in badges.inner_text()
    labels = visitor.page.locator("form.filters .field label").all()
    tops = {round(label.bounding_box()["y"]) for label in labels[:3]}
    assert len(tops) == 1, tops  # the first row's labels on one line
    visitor.step("catalogue-filtered")
    assert not visitor.problems, visitor.problems


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_auditor_verifies_the_log_now_from_the_explorer(people, lang):
    from audit.models import AuditEvent

    auditor = people(lang)
    auditor.sign_in("auditor@demo.lifes.test")
    auditor.goto("/audit/")
    start = auditor.page.locator("input[name=occurred_from]")
    assert start.get_attribute("type") == "datetime-local"
    assert start.bounding_box()["width"] >= 180
    auditor.step("explorer")
    auditor.page.get_by_role("button", name=WORDS[lang]["verify"]).click()
    auditor.page.wait_for_load_state("load")
    assert WORDS[lang]["verifying"] in auditor.page.inner_text("main")
    assert AuditEvent.objects.filter(action="audit.log_verified").exists()
    assert "audit.log_verified" in auditor.page.inner_text("table.audit-events")
    assert not auditor.problems, auditor.problems


def test_a_requester_cannot_verify_the_log(people):
    from audit.models import AuditEvent

    requester = people("en")
    requester.sign_in("requester@demo.lifes.test")
    response = requester.page.request.post(
        requester.base + "/audit/verify/",
        headers={
            "X-CSRFToken": next(
                c["value"] for c in requester.context.cookies() if c["name"] == "csrftoken"
            ),
            "Referer": requester.base + "/audit/",
        },
    )
    assert response.status == 404
    assert not AuditEvent.objects.filter(action="audit.verify_requested").exists()


def test_the_reports_form_shows_the_fields_of_the_chosen_kind(people):
    auditor = people("en")
    auditor.sign_in("auditor@demo.lifes.test")
    auditor.goto("/reports/")
    page = auditor.page
    page.select_option("select[name=kind]", "period")
    assert page.locator("[name=subject]").is_hidden()
    assert page.locator("[name=period_start]").is_visible()
    page.select_option("select[name=kind]", "dossier")
    assert page.locator("[name=subject]").is_visible()
    assert page.locator("[name=period_start]").is_hidden()
    assert page.locator("[name=organisation]").is_hidden()
    auditor.step("reports-form")
    assert not auditor.problems, auditor.problems


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_metrics_chart_labels_are_whole_and_captions_title_their_chart(people, demo_site, lang):
    auditor = people(lang)
    auditor.sign_in("auditor@demo.lifes.test")
    auditor.goto("/reports/metrics/")
    # Months in words, as the reader's language writes them ("Dec 2026", "dec 2026")
    months = auditor.page.locator("#months-h ~ table time")
    assert months.count() >= 1
    for month in months.all():
        iso, text = month.get_attribute("datetime"), month.inner_text()
        assert re.fullmatch(r"\d{4}-\d{2}", iso), iso
        assert re.fullmatch(r"[A-Z][a-z]{2} \d{4}" if lang == "en" else r"[a-z]{3} \d{4}", text)
        assert text.endswith(iso[:4])
    clipped = auditor.page.evaluate(
        "Array.from(document.querySelectorAll('svg.chart text')).filter(t => t.getBBox().x < 0)"
        ".map(t => t.textContent)"
    )
    assert clipped == []
    for figure in auditor.page.locator("figure.chart-figure").all():
        caption, chart = figure.locator("figcaption"), figure.locator("svg")
        assert caption.bounding_box()["y"] < chart.bounding_box()["y"]
    auditor.step("metrics")
    assert not auditor.problems, auditor.problems


# --- 11: phones -----------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE, IPHONE, TABLET, DESKTOP])
def test_dashboard_register_and_permit_fit_a_phone(people, demo_site, viewport):
    permit = _permit()
    requester = people("en", viewport=viewport)
    requester.sign_in("requester@demo.lifes.test")
    for path in ("/requests/", "/register/", f"/permits/{permit.number}/", "/catalogue/"):
        requester.goto(path)
        assert _width(requester)[0] <= viewport["width"], (path, _width(requester))
    # the request page lists the permit's recent runs too
    requester.goto(f"/requests/{permit.request.reference}/")
    assert requester.page.locator("section[aria-labelledby=permits-h] tbody tr").count() == RUNS
    assert _width(requester)[0] <= viewport["width"], ("request", _width(requester))
    assert _readable(requester) >= CELL_MIN_PX, ("request", _readable(requester))
