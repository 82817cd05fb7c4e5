"""The demo permit: one active permit that ``lifes-node run`` can execute on the demo node.

``seed_permits(report)`` makes sure that

- the demo node ``lumc-station-1`` has a receipt-signing key: a fixed demo key (derived from a
  constant, like the demo API token, so it is the same however often the world is seeded),
  written to ``demo/node/node.key`` when that file is missing and registered at the hub;
- an active permit exists on that node for ``leiden-diabetes-cohort`` with the demo algorithm
  ``mean-bmi-by-sex`` 1.0.0: the one the approval of a demo request already issued, else it
  issues one for an approved request, else it takes a new demo request through the review itself;
- the signed revocation list is published.

Everything goes through the services, so it is audited like real use. Run it after the
participants' consents are seeded, so the cohort at issue is the demo cohort.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from catalogue.models import Algorithm, Dataset, Node
from catalogue.services import node_public_key_set
from lifes_node.keys import public_jwk, write_private_key
from permits.models import Permit, PermitStatus
from permits.services import permit_issue, revocation_list_publish
from requests_app import services
from requests_app.models import (
    AccessRequest,
    OwnerDecision,
    QuorumRule,
    RequestState,
    StageState,
    VoteChoice,
)

NODE_ID = "lumc-station-1"
DATASET = "leiden-diabetes-cohort"
ALGORITHM = ("mean-bmi-by-sex", "1.0.0")
NODE_DIR = Path(__file__).resolve().parent / "node"
NODE_KEY_PATH = NODE_DIR / "node.key"
# The demo node's receipt key is derived from this constant: a demo secret, never for production.
DEMO_NODE_KEY_SEED = b"lifes demo node lumc-station-1 receipt key - not for production"
DEMO_TITLE = "HbA1c and BMI in type 2 diabetes"
DEMO_ANSWERS: dict[str, Any] = {
    "lay_summary": "How blood sugar control relates to weight in adults with diabetes.",
    "scientific_abstract": "Counts and sums of BMI and HbA1c per sex; cells of at least 10.",
    "ehds_category": "e",
    "purpose_code": "DUO:0000007",
    "purpose_diseases": ["MONDO:0005148"],
    "is_commercial": False,
    "no_prohibited_use": True,
    "public_benefit": "Better diabetes care for patients in the Netherlands.",
    "no_stigmatisation": True,
    "gdpr_art6_basis": "e",
    "gdpr_art9_basis": "j",
    "ethics_reference": "METC-2026-042",
    "ethics_committee": "METC Leiden Den Haag Delft",
    "expected_outputs": "Counts, sums of BMI and HbA1c per sex; no row-level data.",
}
PDF = b"%PDF-1.4\n% Demo ethics approval letter METC-2026-042\n%%EOF\n"


def demo_node_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(DEMO_NODE_KEY_SEED).digest())


def _node_key(report: Any, node: Node, path: Path) -> None:
    key = demo_node_key()
    if not path.exists():
        write_private_key(key, path)
        report.created.append(f"demo node key {path}")
    if not (node.public_key_jwk or {}).get("x"):
        node_public_key_set(actor=None, node=node, jwk=public_jwk(key))
        report.created.append(f"receipt key of node {NODE_ID}")


def current_demo_permit() -> Permit | None:
    """The demo permit a node can run now: active and inside its validity window (another
    demo permit may be active but not valid yet; a node would refuse that one)."""
    live = _live_permit(valid_now=True)
    return live if live is not None and live.token else None


def _live_permit(*, valid_now: bool = False) -> Permit | None:
    now = timezone.now()
    window = {"valid_from__lte": now} if valid_now else {}
    return (
        Permit.objects.filter(
            **window,
            status=PermitStatus.ACTIVE,
            valid_until__gt=now,
            request__state=RequestState.PERMITTED,
            permit_datasets__node_identifier=NODE_ID,
            permit_datasets__dataset__slug=DATASET,
            permit_algorithms__name=ALGORITHM[0],
            permit_algorithms__version=ALGORITHM[1],
        )
        .order_by("-issued_at")
        .first()
    )


def _approved_request() -> AccessRequest | None:
    return (
        AccessRequest.objects.filter(
            state=RequestState.APPROVED,
            requested_datasets__dataset__slug=DATASET,
            requested_datasets__decision=OwnerDecision.GRANTED,
            algorithms__name=ALGORITHM[0],
            algorithms__version=ALGORITHM[1],
        )
        .order_by("pk")
        .first()
    )


def approve_request(
    request: AccessRequest,
    *,
    refuse: frozenset[str] = frozenset(),
    accept_terms: bool = True,
) -> AccessRequest:
    """Take a complete draft (or a request sent back for changes) through submission, every
    board (members declare no conflict and approve, the chair closes the round) and every owner
    (grant, except the datasets in ``refuse``), through the services. With ``accept_terms`` the
    requester accepts the datasets' data-use terms first, so the permit is active at issue;
    without, it waits for that acceptance (EHDS Art. 68)."""
    request.refresh_from_db()
    if accept_terms:
        services.terms_accept(actor=request.requester, request_id=request.pk)
    if request.state == RequestState.CHANGES_REQUESTED:
        services.request_resubmit(actor=request.requester, request_id=request.pk)
    elif request.state == RequestState.DRAFT:  # else an amendment, already sent
        services.request_submit(actor=request.requester, request_id=request.pk)
    # The checks (if no worker ran them yet), then the access body's completeness check.
    from demo.ehds_world import complete_after_checks

    request = complete_after_checks(request)
    for _round in range(10):
        stage = request.stages.filter(state=StageState.OPEN).select_related("board").first()
        if stage is None:
            break
        memberships = list(stage.board.memberships.select_related("user").order_by("pk"))
        chair = next((m.user for m in memberships if m.is_chair), None)
        voters = [m.user for m in memberships if m.role == "member"][: stage.board.min_votes]
        for voter in voters or ([chair] if chair else []):
            services.conflict_declare(actor=voter, request_id=request.pk, has_conflict=False)
            services.vote_cast(actor=voter, request_id=request.pk, choice="approve")
        chair_decides = stage.board.quorum_rule == QuorumRule.CHAIR
        services.round_close(
            actor=chair,
            request_id=request.pk,
            decision=VoteChoice.APPROVE if chair_decides else None,
        )
    for item in request.requested_datasets.select_related("dataset"):
        if item.decision != OwnerDecision.PENDING:
            continue
        is_refused = item.dataset.slug in refuse
        services.dataset_decide(
            actor=item.dataset.stewards.order_by("pk").first(),
            request_id=request.pk,
            dataset_slug=item.dataset.slug,
            decision=OwnerDecision.REFUSED if is_refused else OwnerDecision.GRANTED,
            conditions="" if is_refused else "Acknowledge the LUMC in publications.",
            reason="Not for this purpose." if is_refused else "",
        )
    request.refresh_from_db()
    return request


def _new_demo_request() -> AccessRequest:
    requester = User.objects.get(email="requester@demo.lifes.test")
    request = services.request_create(actor=requester, title=DEMO_TITLE)
    today = timezone.localdate()
    services.request_update(
        actor=requester,
        request_id=request.pk,
        changes={
            **DEMO_ANSWERS,
            "pi_name": requester.full_name,
            "pi_email": requester.email,
            "ethics_expires_on": today + dt.timedelta(days=3 * 365),
            "period_start": today,
            "period_end": today + dt.timedelta(days=365),
        },
        datasets=list(Dataset.objects.filter(slug=DATASET)),
        algorithms=list(Algorithm.objects.filter(name=ALGORITHM[0], version=ALGORITHM[1])),
    )
    services.attachment_add(
        actor=requester,
        request_id=request.pk,
        kind="ethics_letter",
        upload=SimpleUploadedFile("ethics-approval.pdf", PDF, content_type="application/pdf"),
    )
    return approve_request(request)


def seed_permits(report: Any, *, node_key_path: Path | None = None) -> Permit:
    """Idempotent: an active demo permit exists afterwards (see the module docstring).

    ``report`` needs a ``created`` list; a ``notes`` list is added with how to run the permit.
    """
    node = Node.objects.get(identifier=NODE_ID)
    _node_key(report, node, node_key_path or NODE_KEY_PATH)
    permit = _live_permit()
    if permit is None:
        request = _approved_request() or _new_demo_request()
        request.refresh_from_db()
        permit = _live_permit()  # the approval itself may have issued it (on commit)
        if permit is None and request.state == RequestState.APPROVED:
            permit = permit_issue(actor=None, request_id=request.pk)
        if permit is None:
            raise RuntimeError(
                f"the demo request {request.reference} ended {request.state}, "
                "not with a permit; see its page for the reason"
            )
        report.created.append(f"permit {permit.number} on {NODE_ID}")
    revocation_list_publish()
    report.notes = [*getattr(report, "notes", []), _how_to_run(permit)]
    return permit


def _how_to_run(permit: Permit) -> str:
    return (
        f"Demo permit {permit.number} (node {NODE_ID}): "
        "DEBUG=1 python manage.py demo_node_permit > permit.jwt && "
        "python -m lifes_node run --config demo/node/node.toml.example --permit permit.jwt "
        "--algorithm demo/node/algorithms/mean_bmi_by_sex.py"
    )


__all__ = ["approve_request", "current_demo_permit", "demo_node_key", "seed_permits"]
