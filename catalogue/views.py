"""Public catalogue pages. A dataset page also answers as DCAT JSON-LD when asked for it."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from catalogue.dcat import catalogue_jsonld, dataset_jsonld, to_turtle
from catalogue.forms import CatalogueFilterForm
from catalogue.selectors import catalogue_page, dataset_get, dataset_search
from lifes.errors import DomainError, NotFound

JSONLD = "application/ld+json"
TURTLE = "text/turtle"


def dataset_list(request: HttpRequest) -> HttpResponse:
    form = CatalogueFilterForm(request.GET or None)
    filters: dict = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "query": data["q"] or "",
            "owner_id": data["owner"].pk if data["owner"] else None,
            "node_id": data["node"].pk if data["node"] else None,
            "duo_code": data["duo"] or "",
            "contains_personal_data": data["personal"],
        }
    datasets = dataset_search(user=request.user, **filters)
    page = Paginator(datasets, 20).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "catalogue/dataset_list.html",
        {
            "form": form,
            "page": page,
            "query_string": query.urlencode(),
        },
    )


def dataset_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        dataset = dataset_get(user=request.user, slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if JSONLD in request.headers.get("Accept", "") or request.GET.get("format") == "jsonld":
        return JsonResponse(
            dataset_jsonld(dataset), content_type=JSONLD, json_dumps_params={"indent": 2}
        )
    return render(request, "catalogue/dataset_detail.html", {"dataset": dataset})


def catalogue_feed(request: HttpRequest) -> HttpResponse:
    """GET /catalogue.jsonld: the harvestable HealthDCAT-AP catalogue, Hydra-paged; Turtle
    when the Accept header asks for text/turtle. IRIs come from HUB_URL, never from Host."""
    try:
        page = catalogue_page(page=request.GET.get("page", "1"))
    except DomainError as exc:
        return JsonResponse({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    document = catalogue_jsonld(page)
    if TURTLE in request.headers.get("Accept", ""):
        response = HttpResponse(to_turtle(document), content_type=f"{TURTLE}; charset=utf-8")
    else:
        response = JsonResponse(document, content_type=JSONLD, json_dumps_params={"indent": 2})
    response["Vary"] = "Accept"
    return response
