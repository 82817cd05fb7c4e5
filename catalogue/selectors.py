"""Catalogue reads. Published datasets are public; unpublished ones only for their stewards."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Max, Min, Q, QuerySet
from django.utils.translation import gettext as _
from guardian.shortcuts import get_objects_for_user

from catalogue.dcat import CataloguePage, coverage
from catalogue.errors import Code
from catalogue.models import Algorithm, Dataset, Node
from lifes.errors import InvalidInput, NotFound


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
        raise NotFound(_("No such dataset."), code=Code.NOT_FOUND)
    return dataset


def algorithms_list() -> QuerySet[Algorithm]:
    return Algorithm.objects.select_related("maintainer").order_by("name", "version")


def nodes_list() -> QuerySet[Node]:
    return Node.objects.select_related("organisation").order_by("name")


def public_datasets() -> QuerySet[Dataset]:
    """What the harvestable catalogue lists: published datasets, whoever asks."""
    return (
        datasets_visible_to(None)
        .select_related("owner", "node", "node__organisation", "hdab")
        .order_by("slug")
    )


def catalogue_page(*, page: str = "1") -> CataloguePage:
    """Page ``page`` of the harvestable catalogue (``CATALOGUE_PAGE_SIZE`` datasets), with the
    whole catalogue's dates and coverage. A malformed page is a 400, one past the end a 404."""
    if not page.isdigit() or int(page) < 1:
        raise InvalidInput(_("page must be a positive whole number."), code=Code.INVALID)
    datasets = public_datasets()
    facts = datasets.aggregate(issued=Min("created_at"), modified=Max("updated_at"))
    total = datasets.count()
    size = settings.CATALOGUE_PAGE_SIZE
    last = max(1, -(-total // size))
    number = int(page)
    if number > last:
        raise NotFound(_("There are %(n)d pages.") % {"n": last}, code=Code.NOT_FOUND)
    places = {
        code
        for spatial, country in datasets.values_list("spatial", "owner__country")
        for code in coverage(spatial, str(country))
    }
    return CataloguePage(
        datasets=list(datasets[(number - 1) * size : number * size]),
        number=number,
        last=last,
        total=total,
        issued=facts["issued"].date() if facts["issued"] else None,
        modified=facts["modified"].date() if facts["modified"] else None,
        places=sorted(places),
    )


def current_terms(dataset_ids: list[int]) -> dict[int, Any]:
    """The current (latest) data-use terms of each dataset that has any: ``{dataset_id: terms}``."""
    from catalogue.models import DataUseTerms

    current: dict[int, Any] = {}
    for terms in (
        DataUseTerms.objects.filter(dataset_id__in=dataset_ids)
        .select_related("dataset")
        .order_by("dataset_id", "-version")
    ):
        current.setdefault(terms.dataset_id, terms)
    return current
