"""EHDS: a granted permit waits for its team's acceptance of the data-use terms (Art. 68).

A permit whose team has not accepted every current version of its datasets' terms is created
``awaiting_acceptance`` and is *not signed*: no token exists, so no node can hold or run it,
and nothing needs to go on the revocation list. When the last person accepts, the permit is
activated and signed (``permit_activate_if_accepted``, the ``permits.activate`` effect); when
``PERMIT_ACCEPTANCE_DAYS`` pass first, it lapses (``permits_acceptance_sweep``, beat). Both are
rows of the permit's table (``activate``, ``lapse``) and safe to run twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import jwt
from django.db import transaction
from django.utils import timezone

from permits import keys
from permits.models import Permit, PermitStatus
from permits.services.common import PERMIT_TYP, notify_team, permit_claims
from permits.services.lifecycle import transition_apply
from permits.workflow import PermitRole
from requests_app.models import AccessRequest
from requests_app.selectors import terms_status

SYSTEM = {PermitRole.SYSTEM}


def terms_snapshot(request: AccessRequest) -> list[dict[str, Any]]:
    """What the permit names of the terms its team accepted: dataset, version, title and the
    SHA-256 of the full text (the text itself is on the permit page)."""
    return [
        {
            "dataset": t.dataset.slug,
            "version": t.version,
            "title": t.title,
            "sha256": hashlib.sha256(t.text.encode("utf-8")).hexdigest(),
        }
        for t in terms_status(request).terms
    ]


def permit_sign(permit: Permit) -> Permit:
    """Sign the permit's claims and store the token (issue of an accepted permit, activation)."""
    token = keys.sign_jws(permit_claims(permit), typ=PERMIT_TYP)
    permit.kid = jwt.get_unverified_header(token)["kid"]
    keys.note_signed_until(permit.kid, permit.valid_until)  # the JWKS keeps the key until then
    permit.token = token
    permit.token_sha256 = hashlib.sha256(token.encode("ascii")).hexdigest()
    permit.save(update_fields=["number", "token", "kid", "token_sha256"])
    return permit


def _lapse(permit: Permit, now: dt.datetime) -> Permit:
    transition_apply(
        permit,
        "lapse",
        actor=None,
        roles=SYSTEM,
        status_reason="the terms were not accepted in time",
        now=now,
        acceptance_due_at=permit.acceptance_due_at,
        pending=terms_status(permit.request).pending,
    )
    notify_team(permit, template="lapse")
    return permit


def permit_activate_if_accepted(
    *, request_id: int, now: dt.datetime | None = None
) -> Permit | None:
    """Activate and sign the request's permit awaiting acceptance once every named team member
    has accepted the current terms; lapse it instead when its window has passed. Otherwise (or
    when there is no such permit) do nothing. Lock order: the request row, then the permit."""
    now = now or timezone.now()
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().filter(pk=request_id).first()
        permit = (
            Permit.objects.select_for_update()
            .filter(request_id=request_id, status=PermitStatus.AWAITING_ACCEPTANCE)
            .first()
            if request is not None
            else None
        )
        if permit is None:
            return None
        if permit.acceptance_due_at is not None and permit.acceptance_due_at <= now:
            return _lapse(permit, now)
        status = terms_status(request)
        if not status.is_complete:
            return None
        permit.terms = terms_snapshot(request)
        permit.accepted_at = now.replace(microsecond=0)
        permit.save(update_fields=["terms", "accepted_at"])
        transition_apply(
            permit,
            "activate",
            actor=None,
            roles=SYSTEM,
            status_reason="every team member accepted the terms",
            now=now,
            terms=permit.terms,
            accepted_by=[email for email, _done in status.people],
        )
        permit_sign(permit)
        notify_team(permit, template="activate")
    return permit


def permits_acceptance_sweep(*, now: dt.datetime | None = None, batch_size: int = 100) -> dict:
    """Beat: every permit awaiting acceptance is activated (the whole team accepted, and its
    ``permits.activate`` effect was lost) or lapsed (its window passed). Idempotent: a second
    run finds nothing left to do. Returns ``{"activated": [...], "lapsed": [...]}`` numbers."""
    now = now or timezone.now()
    done: dict[str, list[str]] = {"activated": [], "lapsed": []}
    request_ids = list(
        Permit.objects.filter(status=PermitStatus.AWAITING_ACCEPTANCE)
        .order_by("acceptance_due_at", "pk")
        .values_list("request_id", flat=True)[:batch_size]
    )
    for request_id in request_ids:
        permit = permit_activate_if_accepted(request_id=request_id, now=now)
        if permit is None:
            continue
        done["activated" if permit.status == PermitStatus.ACTIVE else "lapsed"].append(
            permit.number
        )
    return done
