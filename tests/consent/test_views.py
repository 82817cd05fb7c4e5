"""The stewards' consent pages, and the conditions in words on the catalogue page."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from catalogue.models import Dataset
from consent.models import ConsentRecord, DatasetConsentState, Participant
from consent.services import consent_import
from consent.templatetags.consent_tags import conditions_items, duo_label, mondo_label
from tests.consent import fhir_examples as ex


def page(client, name, *args, **params):
    return client.get(reverse(f"consent:{name}", args=args), params)


@pytest.fixture
def imported(dataset, world):
    consent_import(
        actor=world["owner"], dataset=dataset, content=json.dumps(ex.bundle(ex.R4_EXAMPLES))
    )
    return dataset


def state() -> tuple:
    return (
        Participant.objects.count(),
        ConsentRecord.objects.count(),
        AuditEvent.objects.count(),
        list(Participant.objects.values_list("opted_out_at", flat=True)),
        list(DatasetConsentState.objects.values_list("version", flat=True)),
    )


@pytest.mark.django_db
def test_steward_sees_their_datasets_and_the_overview(client, imported, world):
    client.force_login(world["owner"])

    listing = page(client, "dataset_list")
    overview = page(client, "dataset_overview", imported.slug)

    assert listing.status_code == 200
    assert sorted(d.slug for d in listing.context["datasets"]) == [
        "consent-test-cohort",
        "leiden-diabetes-cohort",
        "leiden-population-health-study",
        "lumc-cardiovascular-biobank",
    ]
    assert overview.status_code == 200
    summary = overview.context["summary"]
    assert (
        summary.participants,
        summary.active,
        summary.withdrawn,
        summary.opted_out,
        summary.version,
    ) == (4, 3, 0, 0, 1)
    body = overview.content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert "Health, medical or biomedical research only." in body


@pytest.mark.django_db
def test_import_page_shows_what_was_imported(client, dataset, world):
    client.force_login(world["owner"])
    upload = SimpleUploadedFile(
        "consents.json",
        json.dumps(ex.bundle(ex.R5_EXAMPLES)).encode(),
        content_type="application/json",
    )

    response = client.post(
        reverse("consent:import", args=[dataset.slug]), {"file": upload, "type": "auto"}
    )

    assert response.status_code == 200
    report = response.context["report"]
    assert (report.is_stored, report.entries, report.participants_created) == (True, 4, 4)
    assert "4 consents were read and imported." in response.content.decode()


@pytest.mark.django_db
def test_import_page_lists_what_was_refused_and_stores_nothing(client, dataset, world):
    client.force_login(world["owner"])
    before = state()
    upload = SimpleUploadedFile(
        "consents.csv", b"participant,permit,colour\nA,DUO:0000042,red\n", content_type="text/csv"
    )

    response = client.post(
        reverse("consent:import", args=[dataset.slug]), {"file": upload, "type": "csv"}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported." in body
    assert "unknown column(s) &#x27;colour&#x27;" in body
    assert state() == before


@pytest.mark.django_db
def test_find_a_participant_and_read_their_history(client, imported, world):
    client.force_login(world["owner"])

    found = page(client, "participant_find", imported.slug, pseudonym="P-R4-03")
    missing = page(client, "participant_find", imported.slug, pseudonym="nobody")
    detail = page(client, "participant_detail", imported.slug, "P-R4-03")

    assert found.status_code == 302
    assert found["Location"] == reverse(
        "consent:participant_detail", args=[imported.slug, "P-R4-03"]
    )
    assert missing.status_code == 404
    assert missing.context["find_form"].errors == {
        "pseudonym": ["No participant with this pseudonymous id in this dataset."]
    }
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "disease specific research (DS, DUO:0000007) — diabetes mellitus (MONDO:0005015)" in body
    assert "Record a withdrawal" in body


@pytest.mark.django_db
def test_withdrawal_needs_a_confirmation_then_is_recorded(client, imported, world):
    client.force_login(world["owner"])
    url = reverse("consent:participant_withdraw", args=[imported.slug, "P-R4-01"])
    before = state()

    confirm_page = client.get(url)
    unconfirmed = client.post(url, {"note": "by letter"})
    assert (confirm_page.status_code, unconfirmed.status_code) == (200, 400)
    assert unconfirmed.context["form"].errors == {
        "confirm": ["Tick the box to confirm the withdrawal."]
    }
    assert state() == before

    done = client.post(url, {"note": "by letter", "confirm": "on"}, follow=True)

    assert done.redirect_chain == [
        (reverse("consent:participant_detail", args=[imported.slug, "P-R4-01"]), 302)
    ]
    current = ConsentRecord.objects.get(participant__pseudonym="P-R4-01", is_current=True)
    assert (current.status, current.source, current.note, current.recorded_by) == (
        "inactive",
        "withdrawal",
        "by letter",
        world["owner"],
    )
    assert "The withdrawal is recorded." in done.content.decode()
    again = client.post(url, {"confirm": "on"})
    assert again.status_code == 400
    assert again.context["form"].non_field_errors() == [
        "This participant has already withdrawn consent."
    ]


@pytest.mark.django_db
def test_national_opt_out_is_recorded_after_confirmation(client, imported, world):
    client.force_login(world["owner"])
    url = reverse("consent:participant_opt_out", args=[imported.slug, "P-R4-02"])

    assert client.post(url, {}).status_code == 400
    response = client.post(url, {"confirm": "on"})

    assert response.status_code == 302
    assert Participant.objects.get(pseudonym="P-R4-02").opted_out_at is not None
    assert DatasetConsentState.objects.get(dataset=imported).version == 2


@pytest.mark.django_db
def test_conditions_page_sets_conditions_or_shows_field_errors(client, dataset, world):
    client.force_login(world["owner"])
    url = reverse("consent:conditions_edit", args=[dataset.slug])

    bad = client.post(url, {"codes": "DUO:0000007 DUO:0000099", "diseases": "", "values": ""})
    ok = client.post(
        url,
        {
            "codes": "DUO:0000007 DUO:0000045",
            "diseases": "MONDO:0005015",
            "values": '{"DUO:0000022": "EU"}',
        },
    )

    assert bad.status_code == 400
    assert bad.context["form"].errors == {
        "codes": ["DUO:0000099 is not a known DUO term (DUO release v2021-02-23)"],
        "diseases": [
            "required with disease specific research (DS, DUO:0000007): name at "
            "least one MONDO disease"
        ],
    }
    assert ok.status_code == 302
    dataset.refresh_from_db()
    assert (dataset.duo_codes, dataset.duo_diseases, dataset.duo_values) == (
        ["DUO:0000007", "DUO:0000045", "DUO:0000022"],
        ["MONDO:0005015"],
        {"DUO:0000022": "EU"},
    )


@pytest.mark.django_db
def test_auditors_read_the_pages_but_cannot_change_anything(client, imported, world):
    client.force_login(world["auditor"])
    before = state()

    overview = page(client, "dataset_overview", imported.slug)
    detail = page(client, "participant_detail", imported.slug, "P-R4-01")
    assert (overview.status_code, detail.status_code) == (200, 200)
    assert "Import consent records" not in overview.content.decode()
    assert "Record a withdrawal" not in detail.content.decode()
    for name, args, data in [
        (
            "import",
            [imported.slug],
            {"file": SimpleUploadedFile("a.csv", b"participant,permit\nA,DUO:0000042\n")},
        ),
        ("participant_withdraw", [imported.slug, "P-R4-01"], {"confirm": "on"}),
        ("participant_opt_out", [imported.slug, "P-R4-01"], {"confirm": "on"}),
        ("conditions_edit", [imported.slug], {"codes": "DUO:0000042"}),
    ]:
        assert client.post(reverse(f"consent:{name}", args=args), data).status_code == 403
    assert state() == before


@pytest.mark.django_db
def test_everyone_else_gets_404_and_nothing_changes(client, imported, world):
    before = state()
    urls = [
        ("get", reverse("consent:dataset_list"), {}),
        ("get", reverse("consent:dataset_overview", args=[imported.slug]), {}),
        (
            "get",
            reverse("consent:participant_find", args=[imported.slug]),
            {"pseudonym": "P-R4-01"},
        ),
        ("get", reverse("consent:participant_detail", args=[imported.slug, "P-R4-01"]), {}),
        (
            "post",
            reverse("consent:import", args=[imported.slug]),
            {"file": SimpleUploadedFile("a.csv", b"participant,permit\nA,DUO:0000042\n")},
        ),
        (
            "post",
            reverse("consent:participant_withdraw", args=[imported.slug, "P-R4-01"]),
            {"confirm": "on"},
        ),
        (
            "post",
            reverse("consent:participant_opt_out", args=[imported.slug, "P-R4-01"]),
            {"confirm": "on"},
        ),
        (
            "post",
            reverse("consent:conditions_edit", args=[imported.slug]),
            {"codes": "DUO:0000042"},
        ),
    ]
    for user in ("requester", "industry", "chair"):
        client.force_login(world[user])
        for method, url, data in urls:
            assert getattr(client, method)(url, data).status_code == 404, (user, url)
    client.logout()
    for method, url, data in urls:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert state() == before
    assert Dataset.objects.get(pk=imported.pk).duo_codes == ["DUO:0000006"]


@pytest.mark.django_db
def test_the_catalogue_page_states_the_conditions_in_words_with_their_codes(client, world):
    body = client.get(
        reverse("catalogue:dataset_detail", args=["lumc-cardiovascular-biobank"])
    ).content.decode()

    assert "Health, medical or biomedical research only." in body
    assert "Non-commercial use only." in body
    assert "Use only within a geographic region: EU." in body
    assert "Ethics approval (IRB/ERB) is required." in body
    assert "<code>DUO:0000046</code>" in body
    diabetes = client.get(
        reverse("catalogue:dataset_detail", args=["leiden-diabetes-cohort"])
    ).content.decode()
    assert (
        "Research on these diseases only, or on diseases that fall within them: diabetes "
        "mellitus (MONDO:0005015)."
    ) in diabetes


def test_conditions_in_words_for_every_kind_of_condition():
    items = conditions_items(
        ["DUO:0000025", "DUO:0000042", "DUO:0000024", "DUO:0000028"],
        [],
        {
            "DUO:0000025": 36,
            "DUO:0000024": "2027-01-01",
            "DUO:0000028": ["LUMC", "Leiden University"],
        },
    )

    assert [(i.code, i.shorthand, i.text) for i in items] == [
        ("DUO:0000042", "GRU", "General research use: any research purpose."),
        ("DUO:0000024", "MOR", "No publication of results before 2027-01-01."),
        ("DUO:0000025", "TS", "Use is limited to 36 months."),
        ("DUO:0000028", "IS", "Only approved institutions: LUMC, Leiden University."),
    ]
    assert duo_label("DUO:0000007") == "disease specific research (DS)"
    assert duo_label("DUO:9999999") == "DUO:9999999"
    assert mondo_label("MONDO:0005015") == "diabetes mellitus"
    assert mondo_label("MONDO:9999999") == "MONDO:9999999"


@pytest.mark.django_db
def test_the_cohort_page_states_the_withdrawal_and_opt_out_rules(client, world, dataset):
    client.force_login(world["owner"])
    overview = page(client, "dataset_overview", dataset.slug)
    assert overview.status_code == 200
    text = " ".join(overview.content.decode().split())
    assert (
        "A withdrawal of consent (GDPR) applies from the moment it is recorded to every later "
        "run of every permit." in text
    )
    assert (
        "A national opt-out (EHDS Art. 71) applies to permits issued after it is recorded. A "
        "permit issued before the opt-out keeps the participant in its cohort." in text
    )


@pytest.mark.django_db
def test_the_conditions_page_names_the_matchers_errors_in_dutch(client, dataset, world):
    client.force_login(world["owner"])
    url = reverse("consent:conditions_edit", args=[dataset.slug])

    bad = client.post(
        url,
        {"codes": "DUO:0000007 DUO:0000099", "diseases": "", "values": ""},
        HTTP_ACCEPT_LANGUAGE="nl",
    )

    assert bad.status_code == 400
    assert bad.context["form"].errors == {
        "codes": ["DUO:0000099 is geen bekende DUO-term (DUO-release v2021-02-23)"],
        "diseases": [
            "verplicht bij ziektespecifiek onderzoek (DS, DUO:0000007): noem ten minste één "
            "MONDO-ziekte"
        ],
    }
