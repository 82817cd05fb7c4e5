"""Template tags for other apps' pages: the permits of a request, with their receipts."""

from __future__ import annotations

from typing import Any

from django import template

from permits import selectors, workflow
from permits.models import Permit
from requests_app.models import AccessRequest, RequestState
from requests_app.permissions import roles_of
from requests_app.workflow import Role

register = template.Library()


@register.simple_tag(takes_context=True)
def request_permits(context: dict[str, Any], access_request: AccessRequest) -> list[Permit]:
    """``{% request_permits obj as permits %}``: the request's permits the viewer may see,
    newest first, each with ``recent_receipts`` (the last 20) and ``actions`` for the viewer."""
    user = context["request"].user
    cache = getattr(access_request, "_prefetched_objects_cache", None) or {}
    if "permits" in cache:
        # The page read them with the request (``request_get_for_page``): the permits of a
        # request the viewer may see, with their datasets and last 20 receipts.
        permits = list(cache["permits"])
    else:
        permits = list(selectors.permits_for_request_page(user=user, request=access_request))
        receipts: dict[int, list] = {permit.pk: [] for permit in permits}
        for receipt in selectors.receipts_of(permits):
            if len(receipts[receipt.permit_id]) < 20:
                receipts[receipt.permit_id].append(receipt)
        for permit in permits:
            permit.recent_receipts = receipts[permit.pk]
    for permit in permits:
        permit.request = access_request  # the page's request, with what it prefetched
        permit.actions = [
            t.action
            for t in workflow.actions_for(
                permit=permit, roles=workflow.roles_on_permit(user, permit)
            )
        ]
    return permits


@register.simple_tag(takes_context=True)
def can_issue_permit(context: dict[str, Any], access_request: AccessRequest) -> bool:
    """An approved request whose permit is not issued yet, seen by one of its data owners."""
    if access_request.state != RequestState.APPROVED:
        return False
    return Role.OWNER in roles_of(context["request"].user, access_request)
