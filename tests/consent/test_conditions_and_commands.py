"""Dataset conditions set through the matcher's parser; load_mondo; consent_import; the task."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from catalogue.models import Dataset
from consent import vocabulary as vocab
from consent.management.commands.load_mondo import terms_in_use
from consent.models import ConsentRecord, Participant
from consent.services import dataset_conditions_set
from consent.signals import dataset_conditions_changed
from consent.tasks import consent_import_file_task
from lifes.errors import InvalidInput, NotAllowed
from tests.consent import fhir_examples as ex


@pytest.mark.django_db
def test_conditions_are_validated_normalised_stored_and_audited(
    dataset, world, django_capture_on_commit_callbacks
):
    received = []
    dataset_conditions_changed.connect(
        lambda sender, **kw: received.append(kw), weak=False, dispatch_uid="test-conditions"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            dataset_conditions_set(
                actor=world["owner"],
                dataset=dataset,
                codes=["DUO:0000007", "DUO:0000028"],
                diseases=["MONDO:0005015"],
                values={"DUO:0000028": [" LUMC "], "DUO:0000024": "2027-01-01"},
            )
    finally:
        dataset_conditions_changed.disconnect(dispatch_uid="test-conditions")

    dataset.refresh_from_db()
    assert (dataset.duo_codes, dataset.duo_diseases, dataset.duo_values) == (
        ["DUO:0000007", "DUO:0000028", "DUO:0000024"],
        ["MONDO:0005015"],
        {"DUO:0000028": ["LUMC"], "DUO:0000024": "2027-01-01"},
    )
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "dataset.conditions_set"
    assert event.payload["before"] == {"codes": ["DUO:0000006"], "diseases": [], "values": {}}
    assert received == [{"signal": dataset_conditions_changed, "dataset_id": dataset.pk}]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("codes", "diseases", "values", "errors"),
    [
        (
            ["DUO:0000006", "DUO:1111111"],
            [],
            {},
            {"codes": ["DUO:1111111 is not a known DUO term (DUO release v2021-02-23)"]},
        ),
        (
            ["DUO:0000006", "DUO:0000031"],
            [],
            {},
            {
                "codes": [
                    "method development (DUO:0000031) is a research type; it belongs in "
                    "purpose.codes"
                ]
            },
        ),
        (
            ["DUO:0000006"],
            ["MONDO:0005015"],
            {},
            {
                "diseases": [
                    "disease terms apply only with disease specific research (DS, DUO:0000007)"
                ]
            },
        ),
        (
            ["DUO:0000006", "DUO:0000025"],
            [],
            {"DUO:0000025": "soon"},
            {
                "values.DUO:0000025": [
                    "time limit on use (TS) needs a positive whole number of months"
                ]
            },
        ),
    ],
)
def test_bad_conditions_are_field_errors_and_change_nothing(
    dataset, world, codes, diseases, values, errors
):
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as caught:
        dataset_conditions_set(
            actor=world["owner"], dataset=dataset, codes=codes, diseases=diseases, values=values
        )
    assert caught.value.errors == errors
    assert Dataset.objects.get(pk=dataset.pk).duo_codes == ["DUO:0000006"]
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_only_stewards_and_staff_set_conditions(dataset, world):
    events = AuditEvent.objects.count()
    for user in (world["requester"], world["auditor"], world["industry"]):
        with pytest.raises(NotAllowed):
            dataset_conditions_set(actor=user, dataset=dataset, codes=["DUO:0000042"])
    assert (Dataset.objects.get(pk=dataset.pk).duo_codes, AuditEvent.objects.count()) == (
        ["DUO:0000006"],
        events,
    )
    dataset_conditions_set(actor=world["admin"], dataset=dataset, codes=["DUO:0000042"])
    assert Dataset.objects.get(pk=dataset.pk).duo_codes == ["DUO:0000042"]


# --------------------------------------------------------------------------------------------
# load_mondo
# --------------------------------------------------------------------------------------------

MINI_OBO = """format-version: 1.2
ontology: mondo

[Term]
id: MONDO:0000001
name: disease or disorder

[Term]
id: MONDO:0004992
name: cancer
is_a: MONDO:0000001 ! disease or disorder

[Term]
id: MONDO:0005015
name: diabetes mellitus
is_a: MONDO:0000001

[Term]
id: MONDO:0005148
name: type 2 diabetes mellitus
is_a: MONDO:0005015 {source="x"} ! diabetes mellitus

[Term]
id: MONDO:0099999
name: a retired term
is_obsolete: true

[Typedef]
id: part_of
name: part of
"""


@pytest.fixture
def restore_vocabulary():
    yield
    vocab.configure()


@pytest.mark.django_db
def test_load_mondo_installs_an_obo_release_and_reports_counts(tmp_path, restore_vocabulary):
    source = tmp_path / "mondo.obo"
    source.write_text(MINI_OBO)
    target = tmp_path / "installed" / "mondo.tsv.gz"
    out = io.StringIO()

    call_command("load_mondo", str(source), "--target", str(target), stdout=out)

    lines = out.getvalue().splitlines()
    assert (
        lines[0] == "MONDO from mondo.obo: 4 terms, 3 is_a links (was 0 terms: 4 added, 0 removed)"
    )
    assert lines[1].startswith(f"Wrote 4 MONDO terms to {target}.")
    with gzip.open(target, "rt") as handle:
        text = handle.read().splitlines()
    assert text[1:] == [
        "id\tlabel\tparents",
        "MONDO:0000001\tdisease or disorder\t",
        "MONDO:0004992\tcancer\tMONDO:0000001",
        "MONDO:0005015\tdiabetes mellitus\tMONDO:0000001",
        "MONDO:0005148\ttype 2 diabetes mellitus\tMONDO:0005015",
    ]
    assert text[0].startswith("# Contains data derived from the Mondo Disease Ontology")
    # This process now reads the new release.
    assert vocab.mondo_size() == 4
    assert vocab.is_covered("MONDO:0005148", "MONDO:0005015")


@pytest.mark.django_db
def test_load_mondo_refuses_a_release_missing_terms_in_use(tmp_path, world, restore_vocabulary):
    # The demo diabetes dataset uses MONDO:0005015 (and its consents more); this release has
    # only the root.
    source = tmp_path / "mondo.tsv"
    source.write_text("id\tlabel\tparents\nMONDO:0000001\tdisease or disorder\t\n")
    target = tmp_path / "mondo.tsv.gz"

    with pytest.raises(CommandError) as caught:
        call_command("load_mondo", str(source), "--target", str(target), stdout=io.StringIO())

    in_use = sorted(terms_in_use())  # the demo datasets' conditions and consents
    assert "MONDO:0005015" in in_use
    assert str(caught.value) == (
        f"{len(in_use)} disease terms in use are not in this release: "
        f"{', '.join(in_use)} (use --force to install anyway)"
    )
    assert not target.exists()
    call_command(
        "load_mondo",
        str(source),
        "--target",
        str(target),
        "--force",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert target.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id\tlabel\tparents\nMONDO:0004992\tcancer\t\n", "but no MONDO:0000001"),
        ("one\ttwo\n", "cannot read it as MONDO: line 1: expected 3 tab-separated columns, got 2"),
    ],
)
def test_load_mondo_refuses_files_that_are_not_mondo(tmp_path, content, message):
    source = tmp_path / "bad.tsv"
    source.write_text(content)
    with pytest.raises(CommandError) as caught:
        call_command("load_mondo", str(source), "--target", str(tmp_path / "out.tsv.gz"))
    assert message in str(caught.value)
    assert not (tmp_path / "out.tsv.gz").exists()


def test_the_shipped_release_is_untouched():
    assert vocab.mondo_size() == 22382


# --------------------------------------------------------------------------------------------
# consent_import command and task
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_consent_import_command(tmp_path, dataset):
    good = tmp_path / "r4.json"
    good.write_text(json.dumps(ex.bundle(ex.R4_EXAMPLES)))
    bad = tmp_path / "bad.csv"
    bad.write_text("participant,permit\nX,DUO:0000099\n")
    out, err = io.StringIO(), io.StringIO()

    call_command("consent_import", dataset.slug, str(good), stdout=out)
    with pytest.raises(CommandError):
        call_command("consent_import", dataset.slug, str(bad), stderr=err)

    assert out.getvalue().strip() == (
        "4 consents read: 4 new participants, 4 consents recorded, 0 unchanged; cohort version 1."
    )
    assert err.getvalue().strip() == "row 2: permit: DUO:0000099 is not a known DUO term"
    assert Participant.objects.filter(dataset=dataset).count() == 4


@pytest.mark.django_db
def test_import_task_is_safe_to_run_twice(tmp_path, dataset, world):
    path = tmp_path / "r5.json"
    path.write_text(json.dumps(ex.bundle(ex.R5_EXAMPLES)))

    first = consent_import_file_task(
        dataset_id=dataset.pk, path=str(path), actor_id=world["owner"].pk
    )
    second = consent_import_file_task(dataset_id=dataset.pk, path=str(path))

    assert (first["consents_recorded"], first["version"]) == (4, 1)
    assert (second["consents_recorded"], second["unchanged"], second["version"]) == (0, 4, 1)
    assert ConsentRecord.objects.filter(dataset=dataset).count() == 4
