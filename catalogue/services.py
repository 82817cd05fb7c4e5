"""Writes to the catalogue. Each is atomic and audited; stewards get guardian object grants."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Organisation, User
from accounts.permissions import require_staff
from audit.services import audit_record
from catalogue.models import Algorithm, Dataset, Node
from catalogue.permissions import can_change_dataset
from lifes.errors import NotAllowed

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
)


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
        raise NotAllowed("Only the node itself or hub staff can set its key.")
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


def dataset_update(*, actor: User, dataset: Dataset, **changes: Any) -> Dataset:
    unknown = set(changes) - set(DATASET_EDITABLE)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if not can_change_dataset(actor, dataset):
            raise NotAllowed("Only the dataset's stewards can change it.")
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
