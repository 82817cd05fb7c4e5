"""The hub's public keys at /.well-known/jwks.json, for nodes that verify permits offline."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from lifes.conditional import etag_of, is_fresh
from permits.keys import jwks


@require_safe
def jwks_view(request: HttpRequest) -> HttpResponse:
    """Short public caching: a node sees a new key within ``JWKS_MAX_AGE`` seconds of a
    rotation, and retired keys stay listed far longer than that. The ``ETag`` covers the
    published keys themselves (one small query), so a node revalidating after ``max-age`` gets
    a bodiless 304 until a key is added or drops off."""
    document = jwks()
    etag = etag_of("jwks", document)
    if is_fresh(request.headers.get("If-None-Match"), etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = JsonResponse(document, content_type="application/jwk-set+json")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=settings.JWKS_MAX_AGE)
    return response


@require_safe
def visa_jwks_view(request: HttpRequest) -> JsonResponse:
    """The EC P-256 key GA4GH visas are signed with; every visa names this URL as its jku."""
    from permits.visas import visa_jwks

    response = JsonResponse(visa_jwks(), content_type="application/jwk-set+json")
    patch_cache_control(response, public=True, max_age=settings.JWKS_MAX_AGE)
    return response
