"""Writes to the catalogue. Each is atomic and audited; stewards get guardian object grants."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Organisation, User
from accounts.permissions import require_staff
from audit.services import audit_record
from catalogue.errors import Code
from catalogue.models import Algorithm, Dataset, DatasetVariable, DataUseTerms, Node
from catalogue.permissions import can_change_dataset
from lifes.errors import InvalidInput, NotAllowed

DATASET_EDITABLE = (
    "title",
    "description",
    "keywords",
    "contact_email",
    "licence",
    "contains_personal_data",
    "min_cohort_size",
    "participant_count",
    "is_published",
    "licence_url",
    "licence_types",
    "themes",
    "spatial",
    "health_categories",
    "legal_basis",
    "provenance",
)


# HealthDCAT-AP descriptors dataset_create takes by name (the model's clean checks the codes).
DATASET_METADATA = (
    "licence_url",
    "licence_types",
    "themes",
    "spatial",
    "health_categories",
    "legal_basis",
    "provenance",
)


def _metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    unknown = set(metadata) - set(DATASET_METADATA)
    if unknown:
        raise TypeError(f"unknown dataset fields: {sorted(unknown)}")
    return metadata


def node_create(
    *,
    actor: User | None,
    identifier: str,
    name: str,
    organisation: Organisation,
    base_url: str = "",
    identity: User | None = None,
) -> Node:
    require_staff(actor)
    with transaction.atomic():
        node = Node(
            identifier=identifier,
            name=name,
            organisation=organisation,
            base_url=base_url,
            identity=identity,
        )
        node.full_clean()
        node.save()
        audit_record(
            actor=actor,
            action="node.create",
            target=node,
            payload={"identifier": identifier, "organisation": organisation.name},
        )
    return node


def node_public_key_set(*, actor: Any, node: Node, jwk: dict[str, Any]) -> Node:
    """Register the node's receipt-signing key. Only the node itself or staff may."""
    is_node_itself = getattr(actor, "is_machine", False) and node.identity_id == actor.pk
    if not (is_node_itself or (actor is not None and actor.is_staff) or actor is None):
        raise NotAllowed(
            _("Only the node itself or hub staff can set its key."), code=Code.PERMISSION_DENIED
        )
    with transaction.atomic():
        node = Node.objects.select_for_update().get(pk=node.pk)
        node.public_key_jwk = jwk
        node.save(update_fields=["public_key_jwk"])
        audit_record(
            actor=actor,
            action="node.key_set",
            target=node,
            payload={"kid": jwk.get("kid", ""), "x": jwk.get("x", "")},
        )
    return node


def _grant_stewards(dataset: Dataset, stewards: list[User]) -> None:
    current = set(dataset.stewards.all())
    for user in current - set(stewards):
        remove_perm("catalogue.change_dataset", user, dataset)
    for user in stewards:
        assign_perm("catalogue.change_dataset", user, dataset)
        assign_perm("catalogue.view_dataset", user, dataset)
    dataset.stewards.set(stewards)


def dataset_create(
    *,
    actor: User | None,
    slug: str,
    persistent_identifier: str,
    title: str,
    description: str,
    owner: Organisation,
    node: Node,
    contact_email: str,
    stewards: list[User] | None = None,
    keywords: str = "",
    licence: str = "",
    contains_personal_data: bool = True,
    duo_codes: list[str] | None = None,
    duo_diseases: list[str] | None = None,
    duo_values: dict[str, Any] | None = None,
    min_cohort_size: int = 10,
    participant_count: int = 0,
    hdab: Organisation | None = None,
    temporal_start: date | None = None,
    temporal_end: date | None = None,
    **metadata: Any,
) -> Dataset:
    """Create a dataset. Its conditions are checked for shape here and for meaning by
    ``consent`` (which owns the DUO vocabulary) when they are set through it."""
    require_staff(actor)
    with transaction.atomic():
        dataset = Dataset(
            slug=slug,
            persistent_identifier=persistent_identifier,
            title=title,
            description=description,
            owner=owner,
            node=node,
            contact_email=contact_email,
            keywords=keywords,
            licence=licence,
            contains_personal_data=contains_personal_data,
            duo_codes=duo_codes or [],
            duo_diseases=duo_diseases or [],
            duo_values=duo_values or {},
            min_cohort_size=min_cohort_size,
            participant_count=participant_count,
            hdab=hdab,
            temporal_start=temporal_start,
            temporal_end=temporal_end,
            **_metadata(metadata),
        )
        dataset.full_clean()
        dataset.save()
        _grant_stewards(dataset, stewards or [])
        audit_record(
            actor=actor,
            action="dataset.create",
            target=dataset,
            payload={
                "slug": slug,
                "title": title,
                "owner": owner.name,
                "node": node.identifier,
                "duo_codes": dataset.duo_codes,
                "duo_diseases": dataset.duo_diseases,
                "duo_values": dataset.duo_values,
                "stewards": [u.email for u in stewards or []],
            },
        )
    return dataset


def dataset_describe(
    *,
    actor: User | None,
    dataset: Dataset,
    hdab: Organisation | None = None,
    temporal_start: date | None = None,
    temporal_end: date | None = None,
    **metadata: Any,
) -> Dataset:
    """Set a dataset's HealthDCAT-AP descriptors (staff; seed_demo fills older demo datasets)."""
    require_staff(actor)
    metadata = _metadata(metadata)
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        changes = {
            "hdab": hdab,
            "temporal_start": temporal_start,
            "temporal_end": temporal_end,
            **metadata,
        }
        for field, value in changes.items():
            setattr(dataset, field, value)
        dataset.full_clean()
        dataset.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=actor,
            action="dataset.describe",
            target=dataset,
            payload={
                **metadata,
                "hdab": hdab.name if hdab else "",
                "temporal_start": temporal_start.isoformat() if temporal_start else "",
                "temporal_end": temporal_end.isoformat() if temporal_end else "",
            },
        )
    return dataset


def dataset_update(*, actor: User, dataset: Dataset, **changes: Any) -> Dataset:
    unknown = set(changes) - set(DATASET_EDITABLE)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if not can_change_dataset(actor, dataset):
            raise NotAllowed(
                _("Only the dataset's stewards can change it."), code=Code.PERMISSION_DENIED
            )
        before = {field: getattr(dataset, field) for field in changes}
        for field, value in changes.items():
            setattr(dataset, field, value)
        dataset.full_clean()
        dataset.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=actor,
            action="dataset.update",
            target=dataset,
            payload={"before": before, "after": changes},
        )
    return dataset


def dataset_stewards_set(*, actor: User | None, dataset: Dataset, stewards: list[User]) -> Dataset:
    require_staff(actor)
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        _grant_stewards(dataset, stewards)
        audit_record(
            actor=actor,
            action="dataset.stewards_set",
            target=dataset,
            payload={"stewards": [u.email for u in stewards]},
        )
    return dataset


def algorithm_register(
    *,
    actor: User | None,
    name: str,
    version: str,
    digest: str,
    description: str = "",
    output_kind: str = "aggregate",
    source_url: str = "",
    maintainer: Organisation | None = None,
) -> Algorithm:
    require_staff(actor)
    with transaction.atomic():
        algorithm = Algorithm(
            name=name,
            version=version,
            digest=digest.lower(),
            description=description,
            output_kind=output_kind,
            source_url=source_url,
            maintainer=maintainer,
        )
        algorithm.full_clean()
        algorithm.save()
        audit_record(
            actor=actor,
            action="algorithm.register",
            target=algorithm,
            payload={"name": name, "version": version, "digest": algorithm.digest},
        )
    return algorithm


# --- EHDS: the data dictionary and the data-use terms (Art. 66, Art. 68) ----------------------

DICTIONARY_FIELDS = ("name", "label", "type", "description", "unit", "codelist")


def _require_custodian(actor: Any, dataset: Dataset) -> None:
    """A dataset's stewards (its custodian) or the system (``actor=None``: seed_demo)."""
    if actor is not None and not can_change_dataset(actor, dataset):
        raise NotAllowed(
            _("Only the dataset's stewards can change it."), code=Code.PERMISSION_DENIED
        )


def dataset_dictionary_set(
    *, actor: Any, dataset: Dataset, variables: list[dict[str, Any]]
) -> list[DatasetVariable]:
    """Replace the dataset's data dictionary with ``variables`` (in that order). All or nothing:
    one bad entry refuses the whole list, naming each problem by its position."""
    rows: list[DatasetVariable] = []
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for position, entry in enumerate(variables):
        unknown = set(entry) - set(DICTIONARY_FIELDS)
        values = {f: str(entry.get(f) or "").strip() for f in DICTIONARY_FIELDS}
        row = DatasetVariable(dataset=dataset, position=position, **values)
        problems: list[str] = [_("Unknown field '%(field)s'.") % {"field": f} for f in unknown]
        try:
            row.full_clean(exclude=["dataset"], validate_unique=False)
        except ValidationError as exc:
            problems += [f"{field}: {m}" for field, ms in exc.message_dict.items() for m in ms]
        if values["name"] in seen:
            problems.append(_("The name '%(name)s' is used twice.") % {"name": values["name"]})
        seen.add(values["name"])
        if problems:
            errors[f"variables[{position}]"] = problems
        rows.append(row)
    if errors:
        raise InvalidInput(
            _("The data dictionary has errors; nothing was saved."),
            code=Code.DICTIONARY_INVALID,
            errors=errors,
        )
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        _require_custodian(actor, dataset)
        before = list(dataset.variables.values_list("name", flat=True))
        dataset.variables.all().delete()
        DatasetVariable.objects.bulk_create(rows)
        audit_record(
            actor=actor,
            action="dataset.dictionary_set",
            target=dataset,
            payload={"before": before, "after": [row.name for row in rows]},
        )
    return list(dataset.variables.all())


def dataset_terms_publish(
    *, actor: Any, dataset: Dataset, title: str, text: str, licence_url: str = ""
) -> DataUseTerms:
    """Publish the next version of the dataset's data-use terms. Earlier versions stay as they
    were (what people accepted); everybody whose permit needs these terms accepts them again."""
    if not text.strip() or not title.strip():
        raise InvalidInput(
            _("Give the terms a title and their full text."),
            code=Code.TERMS_EMPTY,
            errors={
                **({"title": [_("Give a title.")]} if not title.strip() else {}),
                **({"text": [_("Give the full text.")]} if not text.strip() else {}),
            },
        )
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        _require_custodian(actor, dataset)
        latest = dataset.terms_versions.order_by("-version").first()
        terms = DataUseTerms(
            dataset=dataset,
            version=(latest.version + 1) if latest else 1,
            title=title.strip()[:200],
            text=text.strip(),
            licence_url=licence_url.strip(),
            published_at=timezone.now(),
            published_by=actor,
        )
        terms.full_clean(exclude=["dataset", "published_by"])
        terms.save()
        audit_record(
            actor=actor,
            action="dataset.terms_publish",
            target=dataset,
            payload={"version": terms.version, "title": terms.title},
        )
    return terms
