"""Writing a request before (and between) submissions: answers, team, attachments, terms."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import primary_organisation
from audit.services import audit_record
from catalogue.models import Algorithm, Dataset
from consent import vocabulary
from consent.matcher import PRIMARY_PURPOSES, RESEARCH_TYPES
from lifes.errors import InvalidInput, NotAllowed
from requests_app.models import AccessRequest, Attachment, AttachmentKind, TeamMember
from requests_app.services.common import grant_view, lock_and_authorize, record

EDITABLE_FIELDS = frozenset(
    {
        "title",
        "lay_summary",
        "scientific_abstract",
        "ehds_category",
        "purpose_code",
        "research_types",
        "purpose_diseases",
        "is_commercial",
        "funding_source",
        "commercial_interests",
        "no_prohibited_use",
        "pi_name",
        "pi_email",
        "pi_orcid",
        "processing_outside_eea",
        "outside_eea_countries",
        "gdpr_art6_basis",
        "gdpr_art9_basis",
        "ethics_reference",
        "ethics_committee",
        "ethics_expires_on",
        "dpia_done",
        "dpia_summary",
        "expected_outputs",
        "period_start",
        "period_end",
    }
)
# Accepted uploads: declared type → the bytes such a file starts with (checked, not trusted).
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".txt": ("text/plain", ()),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
}


def request_create(*, actor: Any, title: str) -> AccessRequest:
    if actor is None or not actor.is_authenticated or actor.is_machine:
        raise NotAllowed(_("Sign in as a person to create a request."))
    organisation = primary_organisation(actor)
    if organisation is None:
        raise InvalidInput(
            _("You need to belong to an organisation to ask for access."), code="no_organisation"
        )
    if not title.strip():
        raise InvalidInput(_("Give the request a title."), errors={"title": [_("Give a title.")]})
    with transaction.atomic():
        request = AccessRequest.objects.create(
            requester=actor,
            organisation=organisation,
            title=title.strip()[:300],
            pi_name=actor.full_name,
            pi_email=actor.email,
            pi_orcid=actor.orcid,
            reference=f"new-{uuid.uuid4().hex[:16]}",  # replaced below, once the pk exists
        )
        # The number comes from the primary key, so two creations never collide.
        request.reference = f"LIFES-R-{request.created_at.year}-{request.pk:06d}"
        request.save(update_fields=["reference"])
        grant_view(request, users=[actor])
        record(actor=actor, action="create", request=request, before="", title=request.title)
    return request


def _validate_answers(changes: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    code = changes.get("purpose_code")
    if code and code not in PRIMARY_PURPOSES:
        errors["purpose_code"] = [f"{code} is not a primary DUO purpose."]
    for term in changes.get("research_types") or []:
        if term not in RESEARCH_TYPES:
            errors.setdefault("research_types", []).append(f"{term} is not a DUO research type.")
    for term in changes.get("purpose_diseases") or []:
        if not vocabulary.is_mondo(term):
            errors.setdefault("purpose_diseases", []).append(f"{term} is not a known MONDO id.")
    return errors


def request_update(
    *,
    actor: Any,
    request_id: int,
    changes: dict[str, Any],
    datasets: list[Dataset] | None = None,
    algorithms: list[Algorithm] | None = None,
) -> AccessRequest:
    """Save answers of a draft (or of a request returned for changes). All or nothing."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(
            _("Unknown fields."),
            errors={f: [_("Not an answer of this form.")] for f in sorted(unknown)},
        )
    errors = _validate_answers(changes)
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="edit")
        request = locked.request
        for field, value in changes.items():
            setattr(request, field, value)
        try:
            request.full_clean(exclude=["requester", "organisation", "reference"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise InvalidInput(_("Some answers need correcting; nothing was saved."), errors=errors)
        request.save(update_fields=[*changes, "updated_at"])
        payload: dict[str, Any] = {"fields": sorted(changes)}
        if datasets is not None:
            _set_datasets(request, datasets)
            payload["datasets"] = sorted(d.slug for d in datasets)
        if algorithms is not None:
            request.algorithms.set(algorithms)
            payload["algorithms"] = sorted(f"{a.name} {a.version}" for a in algorithms)
        record(actor=actor, action="edit", request=request, before=request.state, **payload)
    return request


def _set_datasets(request: AccessRequest, datasets: list[Dataset]) -> None:
    wanted = {d.pk for d in datasets}
    request.requested_datasets.exclude(dataset_id__in=wanted).delete()
    have = set(request.requested_datasets.values_list("dataset_id", flat=True))
    for dataset in datasets:
        if dataset.pk not in have:
            request.requested_datasets.create(dataset=dataset)


def team_member_invite(*, actor: Any, request_id: int, email: str, role: str = "") -> TeamMember:
    from django.core.validators import validate_email

    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(
            _("Enter a valid email address."), errors={"email": [_("Enter a valid email address.")]}
        ) from exc
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="edit")
        request = locked.request
        if request.team.filter(email=email).exists() or email == request.requester.email:
            raise InvalidInput(
                _("That person is already on the team."),
                errors={"email": [_("Already on the team.")]},
            )
        member = TeamMember.objects.create(request=request, email=email, role=role[:100])
        record(
            actor=actor,
            action="team_invite",
            request=request,
            before=request.state,
            email=email,
            role=role,
        )
        from requests_app.notifications import notify

        notify(
            template="team_invite", request=request, recipients=[email], context={"inviter": actor}
        )
    return member


def team_member_remove(*, actor: Any, request_id: int, email: str) -> None:
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="edit")
        deleted, _ = locked.request.team.filter(email=email.lower()).delete()
        if not deleted:
            raise InvalidInput(
                _("That person is not on the team."), errors={"email": [_("Not on the team.")]}
            )
        record(
            actor=actor,
            action="team_remove",
            request=locked.request,
            before=locked.request.state,
            email=email.lower(),
        )


def terms_accept(*, actor: Any, request_id: int) -> TeamMember:
    """A team member accepts the terms of every requested dataset, personally."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="accept_terms")
        request = locked.request
        member, _created = TeamMember.objects.get_or_create(
            request=request, email=actor.email.lower(), defaults={"role": "applicant"}
        )
        if member.accepted_terms_at is None:
            member.user = actor
            member.accepted_terms_at = timezone.now()
            member.save(update_fields=["user", "accepted_terms_at"])
            grant_view(request, users=[actor])
            record(
                actor=actor,
                action="terms_accept",
                request=request,
                before=request.state,
                email=member.email,
                datasets=sorted(request.datasets.values_list("slug", flat=True)),
            )
    return member


def _check_upload(upload: UploadedFile) -> tuple[str, str]:
    """Return (content type, sha256) or raise InvalidInput naming the problem."""
    name = upload.name or ""
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        allowed = ", ".join(sorted(ATTACHMENT_TYPES))
        raise InvalidInput(
            _("Files of type '%(type)s' are not accepted; use %(allowed)s.")
            % {"type": extension or name, "allowed": allowed},
            code="attachment_type",
            errors={"file": [_("Use one of: %(allowed)s.") % {"allowed": allowed}]},
        )
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise InvalidInput(
            _("The file is %(size)d KiB; the limit is %(limit)d KiB.")
            % {"size": upload.size // 1024, "limit": limit // 1024},
            code="attachment_too_large",
            errors={
                "file": [
                    _("The file is larger than %(mib)d MiB.") % {"mib": limit // (1024 * 1024)}
                ]
            },
        )
    content_type, magic = ATTACHMENT_TYPES[extension]
    upload.seek(0)
    head = upload.read(16)
    if magic and not any(head.startswith(m) for m in magic):
        raise InvalidInput(
            _("The file's content does not match its type."),
            code="attachment_type",
            errors={"file": [_("This is not a real %(type)s file.") % {"type": extension}]},
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    if extension == ".txt":
        upload.seek(0)
        try:
            upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(
                _("Text files must be UTF-8."),
                code="attachment_type",
                errors={"file": [_("Text files must be UTF-8.")]},
            ) from None
    upload.seek(0)
    return content_type, digest.hexdigest()


def attachment_add(*, actor: Any, request_id: int, kind: str, upload: UploadedFile) -> Attachment:
    if kind not in AttachmentKind.values:
        raise InvalidInput(_("Unknown attachment kind."), errors={"kind": [_("Unknown kind.")]})
    content_type, sha256 = _check_upload(upload)
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="edit")
        request = locked.request
        if kind == AttachmentKind.ETHICS_LETTER:
            request.attachments.filter(kind=kind, is_current=True).update(is_current=False)
        attachment = Attachment(
            request=request,
            kind=kind,
            original_name=upload.name[:255],
            content_type=content_type,
            size=upload.size,
            sha256=sha256,
            uploaded_by=actor,
        )
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        audit_record(
            actor=actor,
            action="request.attachment_add",
            target=request,
            payload={
                "reference": request.reference,
                "kind": kind,
                "name": attachment.original_name,
                "sha256": sha256,
                "size": upload.size,
            },
        )
    return attachment
