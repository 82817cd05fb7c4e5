"""Application forms as data: the default Five Safes template, custodians' templates merged
into one form, conditions, privacy, the API schema, versions, the round diff and the dossier."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import TestCase
from django.utils import translation

from accounts.models import Organisation
from catalogue.models import Dataset
from catalogue.services import dataset_create
from demo.ehds_world import complete_after_checks
from demo.forms_world import KEY as DEMO_KEY
from lifes.errors import InvalidInput, NotAllowed
from requests_app import services
from requests_app.answers import missing_answers
from requests_app.application_form import form_for_request
from requests_app.models import AccessRequest, FormTemplate, RequestState
from tests.requests.conftest import declare_none, fill_draft

POPULATION = "leiden-population-health-study"
DIABETES = "leiden-diabetes-cohort"
FIVE_SAFES_KEYS = [
    "title",
    "lay_summary",
    "scientific_abstract",
    "ehds_category",
    "purpose_code",
    "research_types",
    "purpose_diseases",
    "is_commercial",
    "funding_source",
    "commercial_interests",
    "no_prohibited_use",
    "public_benefit",
    "no_stigmatisation",
    "pi_name",
    "pi_email",
    "pi_orcid",
    "team",
    "datasets",
    "algorithms",
    "gdpr_art6_basis",
    "gdpr_art9_basis",
    "ethics_reference",
    "ethics_committee",
    "ethics_expires_on",
    "ethics_letter",
    "dpia_done",
    "dpia_summary",
    "processing_outside_eea",
    "outside_eea_countries",
    "expected_outputs",
    "period_start",
    "period_end",
]
CUSTODIAN_ANSWERS = {
    "study_variables": ["questionnaires", "linked_records"],
    "returns_results": True,
    "return_plan": "RETURN-PLAN frailty index per participant, CSV, by June 2027.",
    "cost_centre": "COST-CENTRE-SECRET 4711",
}


def _second_custodian(world) -> Dataset:
    """A dataset of another organisation (Leiden University), with its own template that asks
    one question of its own and one the LUMC template asks as well (``study_variables``)."""
    university = Organisation.objects.get(name="Leiden University")
    population = Dataset.objects.get(slug=POPULATION)
    dataset = dataset_create(
        actor=None,
        slug="leiden-sleep-study",
        persistent_identifier="https://doi.org/10.5072/lifes.sleep",
        title="Leiden Sleep Study",
        description="Sleep diaries and actigraphy of Leiden students.",
        owner=university,
        node=population.node,
        contact_email="data@leiden.example",
        duo_codes=["DUO:0000042"],
        participant_count=300,
    )
    services.form_template_create(
        actor=None,
        key="leiden-sleep",
        title="Leiden Sleep Study questions",
        organisation=university,
        sections=[{"key": "population-study", "title_en": "Population study"}],
        questions=[
            {
                "section": "population-study",
                "key": "study_variables",
                "type": "multi_choice",
                "label_en": "Which parts of the study do you need?",
                "choices": [["questionnaires", "Questionnaires"], ["actigraphy", "Actigraphy"]],
                "is_private": True,
                "required": False,
            },
            {
                "section": "population-study",
                "key": "sleep_consent_version",
                "type": "number",
                "label_en": "Which consent version did you read?",
                "label_nl": "Welke versie van de toestemming hebt u gelezen?",
                "required": True,
            },
        ],
        datasets=[dataset],
    )
    return dataset


@pytest.mark.django_db
def test_the_default_template_keeps_todays_question_keys_and_privacy(world):
    request = services.request_create(actor=world["requester"], title="Defaults")
    form = form_for_request(request)
    assert [q.key for q in form.questions] == FIVE_SAFES_KEYS
    assert form.section_keys == ("project", "people", "data", "settings", "outputs")
    assert form.private_keys == {
        "funding_source",
        "commercial_interests",
        "pi_email",
        "dpia_summary",
        "team",
    }
    assert form.by_key["lay_summary"].max_length == 2000
    assert [t[1:] for t in form.templates] == [("five-safes", 1)]


@pytest.mark.django_db
def test_the_demo_ships_a_custodian_template_with_a_conditional_and_a_private_question(world):
    template = FormTemplate.objects.get(key=DEMO_KEY)
    assert template.organisation.name == "Leiden University Medical Center"
    assert list(template.datasets.values_list("slug", flat=True)) == [POPULATION]
    questions = {q.key: q for q in template.questions.all()}
    assert questions["return_plan"].show_when == {"question": "returns_results", "equals": True}
    assert questions["cost_centre"].is_private is True
    assert questions["return_plan"].help_nl == "Noem de variabelen, hun formaat en de datum."


@pytest.mark.django_db
def test_a_request_across_two_custodians_shows_one_merged_form(world, client):
    sleep = _second_custodian(world)
    request = services.request_create(actor=world["requester"], title="Two custodians")
    services.request_update(
        actor=world["requester"],
        request_id=request.pk,
        changes={},
        datasets=[Dataset.objects.get(slug=POPULATION), sleep],
    )
    form = form_for_request(request)
    # one section of that key, each question once, the shared one private (one template says so)
    assert form.section_keys == (
        "project",
        "people",
        "data",
        "settings",
        "outputs",
        "population-study",
    )
    # templates in the order of their keys: leiden-sleep, then lumc-population-study
    assert form.section("population-study").fields == (
        "study_variables",
        "sleep_consent_version",
        "returns_results",
        "return_plan",
        "cost_centre",
    )
    assert form.by_key["study_variables"].required is True  # the LUMC requires it
    assert "study_variables" in form.private_keys
    assert "cost_centre" in form.private_keys
    # and the wizard shows it: one page, every question once, in Dutch where given
    client.force_login(world["requester"])
    page = client.get(f"/requests/{request.reference}/edit/population-study/")
    body = page.content.decode()
    assert page.status_code == 200
    for key in form.section("population-study").fields:
        # the shared multiple choice offers both custodians' options: 4 boxes
        assert body.count(f'name="{key}"') == (1 if key != "study_variables" else 4), key
    assert "Which consent version did you read?" in body
    assert body.count("Which parts of the study do you need?") == 1
    dutch = client.get(
        f"/requests/{request.reference}/edit/population-study/", HTTP_ACCEPT_LANGUAGE="nl"
    )
    translation.activate(settings.LANGUAGE_CODE)  # the middleware left Dutch on this thread
    assert "Welke versie van de toestemming hebt u gelezen?" in dutch.content.decode()
    # the progress names the section as sixth, and the review as seventh step
    assert "7. Check and submit" in body


@pytest.mark.django_db
def test_a_hidden_conditional_question_is_not_required_and_a_shown_one_is(review):
    request = fill_draft(review["requester"], [DIABETES, POPULATION])
    answers = {k: v for k, v in CUSTODIAN_ANSWERS.items() if k != "return_plan"}
    # hidden: returns_results is no
    services.request_update(
        actor=review["requester"],
        request_id=request.pk,
        changes={**answers, "returns_results": False},
    )
    request.refresh_from_db()
    assert missing_answers(request) == {}
    # shown: returns_results is yes, so the return plan is required
    services.request_update(
        actor=review["requester"], request_id=request.pk, changes={"returns_results": True}
    )
    request.refresh_from_db()
    assert missing_answers(request) == {
        "return_plan": ["Describe how you will return the derived variables."]
    }
    with pytest.raises(InvalidInput) as refused:
        services.request_submit(actor=review["requester"], request_id=request.pk)
    assert refused.value.errors == {
        "return_plan": ["Describe how you will return the derived variables."]
    }
    request.refresh_from_db()
    assert request.state == RequestState.DRAFT
    assert request.round == 0


@pytest.mark.django_db
def test_the_wizard_hides_a_conditional_question_until_its_condition_holds(review, client):
    request = fill_draft(review["requester"], [POPULATION])
    client.force_login(review["requester"])
    url = f"/requests/{request.reference}/edit/population-study/"

    def wrapper_of(body: str, key: str) -> str:
        return body[body.index(f'data-question="{key}"') :].split(">")[0]

    body = client.get(url).content.decode()
    assert wrapper_of(body, "return_plan").endswith(" hidden")  # returns_results: not yet
    assert "data-show-when=" in wrapper_of(body, "return_plan")
    assert "hidden" not in wrapper_of(body, "cost_centre")
    response = client.post(
        url,
        {
            "study_variables": ["questionnaires"],
            "returns_results": "on",
            "return_plan": "Frailty index by 2027.",
            "cost_centre": "4711",
        },
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.extra_answers == {
        "study_variables": ["questionnaires"],
        "returns_results": True,
        "return_plan": "Frailty index by 2027.",
        "cost_centre": "4711",
    }
    shown = client.get(url).content.decode()
    assert "hidden" not in wrapper_of(shown, "return_plan")


@pytest.mark.django_db
def test_custodian_answers_are_checked_against_the_template_and_nothing_is_half_saved(review):
    request = fill_draft(review["requester"], [POPULATION])
    with pytest.raises(InvalidInput) as refused:
        services.request_update(
            actor=review["requester"],
            request_id=request.pk,
            changes={
                "study_variables": ["questionnaires", "blood"],
                "cost_centre": "x" * 61,
                "lay_summary": "Changed",
            },
        )
    assert refused.value.errors == {
        "study_variables": ["blood is not one of the choices."],
        "cost_centre": ["Ensure this value has at most 60 characters (it has 61)."],
    }
    request.refresh_from_db()
    assert request.extra_answers == {}
    assert request.lay_summary != "Changed"
    # a key no template of this request asks is refused
    diabetes_only = fill_draft(review["requester"], [DIABETES])
    with pytest.raises(InvalidInput) as unknown:
        services.request_update(
            actor=review["requester"], request_id=diabetes_only.pk, changes={"cost_centre": "1"}
        )
    assert unknown.value.errors == {"cost_centre": ["Not an answer of this form."]}


@pytest.mark.django_db
def test_the_api_schema_for_answers_follows_the_templates(world, client):
    _second_custodian(world)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    demo = components["AnswersLumcPopulationStudyV1"]
    assert sorted(demo["properties"]) == [
        "cost_centre",
        "return_plan",
        "returns_results",
        "study_variables",
    ]
    assert demo["properties"]["cost_centre"] == {
        "type": "string",
        "maxLength": 60,
        "description": "Cost centre for the study's fees Private.",
    }
    assert demo["properties"]["study_variables"]["items"]["enum"] == [
        "questionnaires",
        "physical_exam",
        "linked_records",
    ]
    assert demo["properties"]["return_plan"]["description"] == (
        "How and when will you return them? Asked when returns_results = true."
    )
    assert demo["x-required-on-submit"] == ["study_variables", "return_plan", "cost_centre"]
    sleep = components["AnswersLeidenSleepV1"]["properties"]
    assert sleep["sleep_consent_version"]["type"] == "number"
    five_safes = components["AnswersFiveSafesV1"]["properties"]
    assert five_safes["lay_summary"]["maxLength"] == 2000
    assert five_safes["pi_orcid"]["pattern"] == r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$"
    assert "team" not in five_safes  # its own endpoint
    # the request bodies of the answers are the default template's questions
    patched = components["PatchedAnswersRequest"]["properties"]
    assert list(patched) == [k for k in FIVE_SAFES_KEYS if k not in ("team", "ethics_letter")]
    assert patched["dpia_summary"]["maxLength"] == 5000


@pytest.mark.django_db
def test_the_api_takes_custodian_answers_and_refuses_bad_ones(world, client):
    client.force_login(world["requester"])
    created = client.post(
        "/api/v1/requests/",
        {"title": "Through the API", "datasets": [POPULATION], "cost_centre": "4711"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    request = AccessRequest.objects.get(reference=reference)
    assert request.extra_answers == {"cost_centre": "4711"}
    too_long = client.patch(
        f"/api/v1/requests/{reference}",
        {"cost_centre": "x" * 61},
        content_type="application/json",
    )
    assert too_long.status_code == 400
    assert too_long.json()["errors"] == {
        "cost_centre": ["Ensure this field has no more than 60 characters."]
    }
    bad_orcid = client.patch(
        f"/api/v1/requests/{reference}",
        {"pi_orcid": "0000-0002-1825-0098"},
        content_type="application/json",
    )
    assert bad_orcid.status_code == 400
    request.refresh_from_db()
    assert request.extra_answers == {"cost_centre": "4711"}
    assert request.pi_orcid == world["requester"].orcid
    good_orcid = client.patch(
        f"/api/v1/requests/{reference}",
        {"pi_orcid": "0000-0002-1825-0097"},  # ORCID's own example iD
        content_type="application/json",
    )
    assert good_orcid.status_code == 200
    # a question only another custodian's template asks is unknown here
    unknown = client.patch(
        f"/api/v1/requests/{reference}",
        {"sleep_consent_version": 2},
        content_type="application/json",
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"sleep_consent_version": ["Not an answer of this form."]}
    request.refresh_from_db()
    assert "sleep_consent_version" not in request.extra_answers


def _submitted_with_custodian_answers(review, django_capture_on_commit_callbacks):
    services.dataset_boards_set(
        actor=review["admin"],
        dataset=Dataset.objects.get(slug=POPULATION),
        boards=[review["ethics"]],
    )
    request = fill_draft(
        review["requester"],
        [DIABETES, POPULATION],
        answers={"funding_source": "FUNDING-SECRET ZonMw"},
    )
    services.request_update(
        actor=review["requester"], request_id=request.pk, changes=CUSTODIAN_ANSWERS
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(actor=review["requester"], request_id=request.pk)
    with django_capture_on_commit_callbacks(execute=True):
        complete_after_checks(request)  # the access body finds it complete: routed
    request.refresh_from_db()
    return request


@pytest.mark.django_db
def test_the_round_diff_and_snapshot_read_the_template(
    review, client, django_capture_on_commit_callbacks
):
    request = _submitted_with_custodian_answers(review, django_capture_on_commit_callbacks)
    first = request.submissions.get(round=1)
    assert first.answers["return_plan"] == CUSTODIAN_ANSWERS["return_plan"]
    assert first.answers["cost_centre"] == "COST-CENTRE-SECRET 4711"
    assert sorted(first.templates.values_list("key", flat=True)) == ["five-safes", DEMO_KEY]
    chair, member1, member2 = review["chair"], review["member1"], review["member2"]
    declare_none(request, chair, member1, member2)
    for member in (member1, member2):
        services.vote_cast(
            actor=member, request_id=request.pk, choice="request_changes", comment="No return."
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.round_close(actor=chair, request_id=request.pk)
    request.refresh_from_db()
    assert request.state == RequestState.CHANGES_REQUESTED
    services.request_update(
        actor=review["requester"],
        request_id=request.pk,
        changes={"returns_results": False, "cost_centre": "COST-CENTRE-SECRET 4712"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.request_resubmit(actor=review["requester"], request_id=request.pk)
    # the requester sees every change, in the template's order and sections
    client.force_login(review["requester"])
    changes = client.get(
        f"/api/v1/requests/{request.reference}/diff?from_round=1&to_round=2"
    ).json()
    assert changes == [
        {
            "field": "returns_results",
            "section": "population-study",
            "before": True,
            "after": False,
        },
        {
            "field": "return_plan",  # hidden now: not kept
            "section": "population-study",
            "before": CUSTODIAN_ANSWERS["return_plan"],
            "after": None,
        },
        {
            "field": "cost_centre",
            "section": "population-study",
            "before": "COST-CENTRE-SECRET 4711",
            "after": "COST-CENTRE-SECRET 4712",
        },
    ]
    # the owner does not see the private question's answer, as with today's private answers
    client.force_login(review["owner"])
    owner_changes = client.get(
        f"/api/v1/requests/{request.reference}/diff?from_round=1&to_round=2"
    ).json()
    assert [c["field"] for c in owner_changes] == ["returns_results", "return_plan"]
    detail = client.get(f"/api/v1/requests/{request.reference}").json()
    assert detail["submitted_answers"]["cost_centre"] == "(private)"
    assert detail["submitted_answers"]["funding_source"] == "(private)"
    assert detail["submitted_answers"]["study_variables"] == ["questionnaires", "linked_records"]
    page = client.get(f"/requests/{request.reference}/diff/?from=1&to=2").content.decode()
    assert "Will you return derived variables to the study?" in page
    assert "COST-CENTRE-SECRET" not in page


@pytest.mark.django_db
def test_the_dossier_shows_custodian_answers_as_the_rule_allows(
    review, django_capture_on_commit_callbacks
):
    from tests.reports.conftest import build, pdf_text

    request = _submitted_with_custodian_answers(review, django_capture_on_commit_callbacks)
    for person, sees_private in ((review["requester"], True), (review["owner"], False)):
        with TestCase.captureOnCommitCallbacks(execute=True):
            report = build(person, kind="dossier", subject=request.reference)
        with report.file.open("rb") as handle:
            text = " ".join(pdf_text(handle.read()).split())  # labels wrap in their column
        assert "Population study" in text
        assert "Which parts of the study do you need?" in text
        assert "Questionnaires; Linked health records" in text
        assert "RETURN-PLAN frailty index" in text
        assert ("COST-CENTRE-SECRET 4711" in text) is sees_private, person
        assert ("FUNDING-SECRET" in text) is sees_private, person


@pytest.mark.django_db
def test_editing_a_used_template_makes_a_new_version(
    review, client, django_capture_on_commit_callbacks
):
    template = FormTemplate.objects.get(key=DEMO_KEY)
    admin = review["admin"]
    # unused: edited in place
    assert services.form_template_edit(actor=admin, template=template) == template
    request = _submitted_with_custodian_answers(review, django_capture_on_commit_callbacks)
    assert services.form_template_is_used(template) is True
    # used: the admin shows it read-only and offers the next version
    client.force_login(admin)
    page = client.get(f"/admin/requests_app/formtemplate/{template.pk}/change/")
    assert page.status_code == 200
    assert "Make a new version to edit" in page.content.decode()
    refused = client.post(
        f"/admin/requests_app/formtemplate/{template.pk}/change/",
        {"title": "Changed in place"},
    )
    assert refused.status_code == 403
    made = client.post(f"/admin/requests_app/formtemplate/{template.pk}/new-version/")
    version_2 = FormTemplate.objects.get(key=DEMO_KEY, version=2)
    assert made.status_code == 302
    assert made["Location"] == f"/admin/requests_app/formtemplate/{version_2.pk}/change/"
    assert list(version_2.questions.values_list("key", flat=True)) == list(
        template.questions.values_list("key", flat=True)
    )
    assert list(version_2.datasets.values_list("slug", flat=True)) == [POPULATION]
    template.refresh_from_db()
    assert template.title == "Leiden Population Health Study: LUMC questions"
    # the new version is what requests answer from now on; the round keeps version 1
    assert services.form_template_edit(actor=admin, template=version_2) == version_2
    preview = client.get(f"/admin/requests_app/formtemplate/{version_2.pk}/preview/")
    assert preview.status_code == 200
    assert "How and when will you return them?" in preview.content.decode()
    new = fill_draft(review["requester"], [POPULATION])
    assert (DEMO_KEY, 2) in [t[1:] for t in form_for_request(new).templates]
    assert list(request.submissions.get(round=1).templates.values_list("version", flat=True)) == [
        1,
        1,
    ]


def _types_template() -> None:
    """A custodian template with one question of each remaining type, on the diabetes cohort."""
    lumc = Organisation.objects.get(name="Leiden University Medical Center")
    questions = [
        ("window", "date_range", {}),
        ("contacts", "table_rows", {"columns": ["Name", "Role"], "max_length": 40}),
        ("sample_size", "number", {}),
        ("contact_email", "email", {}),
        ("analyst_orcid", "orcid", {}),
        ("storage", "choice", {"choices": [["cloud", "Cloud"], ["onsite", "On site"]]}),
        ("visit_on", "date", {}),
        ("comorbidities", "mondo_diseases", {}),
        ("secondary_purpose", "duo_purpose", {"choices_from": "duo_purpose"}),
    ]
    services.form_template_create(
        actor=None,
        key="lumc-types",
        title="Every type",
        organisation=lumc,
        sections=[{"key": "types", "title_en": "Types"}],
        questions=[
            {"section": "types", "key": key, "type": kind, "label_en": key, **extra}
            for key, kind, extra in questions
        ],
        datasets=[Dataset.objects.get(slug=DIABETES)],
    )


@pytest.mark.django_db
def test_every_question_type_is_checked_and_stored_as_json(review, client):
    _types_template()
    request = fill_draft(review["requester"], [DIABETES])
    with pytest.raises(InvalidInput) as refused:
        services.request_update(
            actor=review["requester"],
            request_id=request.pk,
            changes={
                "window": {"start": "2027-05-01", "end": "2027-01-01"},
                "contacts": [["Ann", "Analyst", "extra"]],
                "sample_size": "many",
                "contact_email": "not-an-address",
                "analyst_orcid": "0000-0002-1825-0098",
                "storage": "attic",
                "visit_on": "31-12-2027",
                "comorbidities": ["MONDO:9999999"],
                "secondary_purpose": "DUO:0000031",
            },
        )
    assert refused.value.errors == {
        "window": ["The end must not come before the start."],
        "contacts": ["Give rows of 2 cells each (Name, Role)."],
        "sample_size": ["Enter a number."],
        "contact_email": ["Enter a valid email address."],
        "analyst_orcid": [
            "This ORCID iD has a wrong check digit; please copy it from your ORCID record."
        ],
        "storage": ["attic is not one of the choices."],
        "visit_on": ["Enter a date as YYYY-MM-DD."],
        "comorbidities": ["MONDO:9999999 is not a known MONDO id."],
        "secondary_purpose": ["DUO:0000031 is not a primary DUO purpose."],
    }
    # the same answers, right, through the wizard's page
    client.force_login(review["requester"])
    response = client.post(
        f"/requests/{request.reference}/edit/types/",
        {
            "window_0": "2027-01-01",
            "window_1": "2027-05-01",
            "contacts": "Ann | Analyst\nBo | Nurse",
            "sample_size": "250",
            "contact_email": "ann@example.org",
            "analyst_orcid": "0000-0002-1825-0097",
            "storage": "onsite",
            "visit_on": "2027-12-31",
            "comorbidities": "MONDO:0005148",
            "secondary_purpose": "DUO:0000006",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request.refresh_from_db()
    assert request.extra_answers == {
        "window": {"start": "2027-01-01", "end": "2027-05-01"},
        "contacts": [["Ann", "Analyst"], ["Bo", "Nurse"]],
        "sample_size": 250,
        "contact_email": "ann@example.org",
        "analyst_orcid": "0000-0002-1825-0097",
        "storage": "onsite",
        "visit_on": "2027-12-31",
        "comorbidities": ["MONDO:0005148"],
        "secondary_purpose": "DUO:0000006",
    }


@pytest.mark.django_db
def test_a_new_version_of_the_default_form_applies_its_stricter_limit_once(review):
    five_safes = FormTemplate.objects.get(key="five-safes", version=1)
    with pytest.raises(NotAllowed):
        services.form_template_new_version(actor=review["requester"], template=five_safes)
    assert FormTemplate.objects.filter(key="five-safes").count() == 1
    version_2 = services.form_template_new_version(actor=review["admin"], template=five_safes)
    version_2.questions.filter(key="lay_summary").update(max_length=100)
    request = fill_draft(review["requester"], [DIABETES])
    with pytest.raises(InvalidInput) as refused:
        services.request_update(
            actor=review["requester"], request_id=request.pk, changes={"lay_summary": "x" * 101}
        )
    assert refused.value.errors == {
        "lay_summary": ["Ensure this value has at most 100 characters (it has 101)."]
    }
