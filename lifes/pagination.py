"""Pagination for every list, bounded whatever the size of the table.

No exact ``COUNT(*)`` over a large table: the count is exact up to ``PAGINATION_COUNT_CAP``
rows and stops there (``count_exact`` false beyond it; a count of a LIMITed subquery, so it
costs at most that many index entries). A page is fetched with one row more than it shows, which
says whether there is a next page without knowing the total. The response keeps DRF's shape
(``count``, ``next``, ``previous``, ``results``) and adds ``count_exact``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class BoundedPage(Page):
    has_more = False

    def has_next(self) -> bool:
        return self.has_more


class BoundedPaginator(Paginator):
    """A ``Paginator`` that never counts more than ``PAGINATION_COUNT_CAP`` rows."""

    @cached_property
    def cap(self) -> int:
        return int(getattr(settings, "PAGINATION_COUNT_CAP", 1000))

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        # Unordered: any cap + 1 rows say as much as the first ones, and the database can stop
        # after them instead of sorting every matching row first (Django keeps the ordering of
        # a sliced query in its count).
        found = rows.order_by()[: self.cap + 1].count() if isinstance(rows, QuerySet) else len(rows)
        self.count_exact = found <= self.cap
        return min(found, self.cap)

    count_exact = True

    def validate_number(self, number: Any) -> int:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger("That page number is not an integer") from exc
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number: Any) -> BoundedPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        page = BoundedPage(rows[: self.per_page], number, self)
        page.has_more = len(rows) > self.per_page
        return page


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = BoundedPaginator

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["count_exact"] = self.page.paginator.count_exact
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_exact"] = {
            "type": "boolean",
            "description": "false when there are more than `count` rows (the count stops there)",
        }
        return schema


def paginate(
    request: Request,
    view: APIView,
    queryset: QuerySet,
    serializer_class,
    *,
    context: Any = None,
) -> Response:
    """One page; ``context(rows)`` may load what the page's rows need in bulk (serializer
    context), so no row queries on its own."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    extra = context(page) if context is not None else {}
    return paginator.get_paginated_response(serializer_class(page, many=True, context=extra).data)


def page_of(rows: Any, number: Any, *, per_page: int = 50) -> BoundedPage:
    """One page of an HTML list (``?page=``), bounded like the API's; out of range → page 1."""
    paginator = BoundedPaginator(rows, per_page)
    try:
        return paginator.page(number or 1)
    except (EmptyPage, PageNotAnInteger):
        return paginator.page(1)
