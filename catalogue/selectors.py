"""Catalogue reads. Published datasets are public; unpublished ones only for their stewards."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from catalogue.models import Algorithm, Dataset, Node
from lifes.errors import NotFound


def datasets_visible_to(user: Any) -> QuerySet[Dataset]:
    visible = Q(is_published=True)
    if user is not None and user.is_authenticated:
        if user.is_staff or getattr(user, "is_auditor", False):
            visible = Q()
        else:
            stewarded = get_objects_for_user(
                user, "catalogue.change_dataset", klass=Dataset, accept_global_perms=False
            )
            visible |= Q(pk__in=stewarded.values("pk"))
    return Dataset.objects.filter(visible)


def dataset_search(
    *,
    user: Any,
    query: str = "",
    owner_id: int | None = None,
    node_id: int | None = None,
    duo_code: str = "",
    contains_personal_data: bool | None = None,
) -> QuerySet[Dataset]:
    datasets = datasets_visible_to(user).select_related("owner", "node")
    for word in query.split():
        datasets = datasets.filter(
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(keywords__icontains=word)
            | Q(owner__name__icontains=word)
        )
    if owner_id is not None:
        datasets = datasets.filter(owner_id=owner_id)
    if node_id is not None:
        datasets = datasets.filter(node_id=node_id)
    if duo_code:
        # JSON list containment is not portable to SQLite; the quoted code is unambiguous text.
        datasets = datasets.filter(duo_codes__icontains=f'"{duo_code}"')
    if contains_personal_data is not None:
        datasets = datasets.filter(contains_personal_data=contains_personal_data)
    return datasets.order_by("title")


def dataset_get(*, user: Any, slug: str) -> Dataset:
    """Fetch and authorise in one call: 'missing' and 'not yours' answer alike."""
    dataset = (
        datasets_visible_to(user)
        .select_related("owner", "node")
        .prefetch_related("stewards")
        .filter(slug=slug)
        .first()
    )
    if dataset is None:
        raise NotFound("No such dataset.")
    return dataset


def algorithms_list() -> QuerySet[Algorithm]:
    return Algorithm.objects.select_related("maintainer").order_by("name", "version")


def nodes_list() -> QuerySet[Node]:
    return Node.objects.select_related("organisation").order_by("name")
