"""The hub's URLs plus ``/bench/bare``: a Django view that does nothing, behind the same
middleware, so bench_http.py can say what each page costs above the stack itself."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from lifes.urls import urlpatterns as hub_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare", bare), *hub_urlpatterns]
