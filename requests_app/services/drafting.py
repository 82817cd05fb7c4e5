"""Writing a request before (and between) submissions: answers, team, attachments, terms."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxLengthValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import outbox
from accounts.selectors import primary_organisation
from accounts.validators import normalise_orcid, validate_orcid
from audit.services import audit_record
from catalogue.models import Algorithm, Dataset
from consent import vocabulary
from consent.duo import PRIMARY_PURPOSES
from lifes.errors import InvalidInput, NotAllowed, clean_errors
from requests_app.application_form import Question, form_for_request
from requests_app.models import (
    AccessRequest,
    Attachment,
    AttachmentKind,
    QuestionType,
    RequestedDataset,
    RequestState,
    TeamMember,
    TermsAcceptance,
)
from requests_app.services.common import grant_view, lock_and_authorize, record

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


def request_create(
    *, actor: Any, title: str, datasets: list[Dataset] | None = None
) -> AccessRequest:
    """A new draft; ``datasets``: chosen already (the dataset page's "Request access"), in the
    same transaction, named in the creation's audit event."""
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
        extra: dict[str, Any] = {}
        if datasets:
            _set_datasets(request, datasets)
            extra["datasets"] = sorted(d.slug for d in datasets)
        record(
            actor=actor, action="create", request=request, before="", title=request.title, **extra
        )
    return request


def _field_errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _check_value(question: Question, value: Any) -> tuple[Any, list[str]]:
    """The answer as stored (JSON for a template's further questions), and what is wrong
    with it. Forms and serializers checked the shape; this is the meaning, for every entry."""
    errors: list[str] = []
    kind = question.type
    if value in (None, ""):
        return value, errors
    if kind in (QuestionType.TEXT, QuestionType.LONG_TEXT, QuestionType.EMAIL, QuestionType.ORCID):
        if not isinstance(value, str):
            return value, [_("Enter text.")]
        if kind == QuestionType.ORCID:
            # https://orcid.org/… as copied from an ORCID record is the same iD: store the bare one
            value = normalise_orcid(value)
        if question.max_length and question.max_length < _column_limit(question):
            try:
                MaxLengthValidator(question.max_length)(value)
            except ValidationError as exc:
                errors += _field_errors(exc)
        if kind == QuestionType.EMAIL:
            try:
                validate_email(value)
            except ValidationError:
                errors.append(_("Enter a valid email address."))
        if kind == QuestionType.ORCID:
            try:
                validate_orcid(value)
            except ValidationError as exc:
                errors += _field_errors(exc)
    elif kind == QuestionType.DUO_PURPOSE:
        if value not in PRIMARY_PURPOSES:
            errors.append(f"{value} is not a primary DUO purpose.")
    elif kind in (QuestionType.CHOICE, QuestionType.MULTI_CHOICE):
        allowed = {v for v, _label in question.choice_list()}
        values = value if isinstance(value, list) else [value]
        if kind == QuestionType.MULTI_CHOICE and not isinstance(value, list):
            return value, [_("Choose from the list.")]
        for item in values:
            if item not in allowed:
                if question.choices_from == "duo_research_types":
                    errors.append(f"{item} is not a DUO research type.")
                elif not question.is_column:  # the model's own choices check the columns
                    errors.append(_("%(value)s is not one of the choices.") % {"value": item})
    elif kind == QuestionType.MONDO_DISEASES:
        for term in value if isinstance(value, list) else [value]:
            if not vocabulary.is_mondo(term):
                errors.append(f"{term} is not a known MONDO id.")
    elif kind == QuestionType.YES_NO:
        if not isinstance(value, bool):
            errors.append(_("Answer yes or no."))
    elif kind == QuestionType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            errors.append(_("Enter a number."))
        elif isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
    elif kind == QuestionType.DATE:
        value, problem = _date(value)
        errors += problem
    elif kind == QuestionType.DATE_RANGE:
        if not isinstance(value, dict) or set(value) - {"start", "end"}:
            return value, [_("Give a start and an end date.")]
        start, problem_start = _date(value.get("start"))
        end, problem_end = _date(value.get("end"))
        errors += problem_start + problem_end
        if not errors and start and end and end < start:
            errors.append(_("The end must not come before the start."))
        value = {"start": _iso(start), "end": _iso(end)}
    elif kind == QuestionType.TABLE_ROWS:
        width = len(question.columns)
        if not isinstance(value, list) or not all(
            isinstance(row, list) and len(row) == width and all(isinstance(c, str) for c in row)
            for row in value
        ):
            errors.append(
                _("Give rows of %(count)d cells each (%(columns)s).")
                % {"count": width, "columns": ", ".join(question.columns)}
            )
        elif question.max_length and sum(len(c) for row in value for c in row) > (
            question.max_length
        ):
            errors.append(
                _("Ensure the table has at most %(limit)d characters.")
                % {"limit": question.max_length}
            )
    if not question.is_column:
        value = _iso(value) if isinstance(value, dt.date) else value
    return value, errors


def _column_limit(question: Question) -> float:
    """The request column's own limit (its ``full_clean`` checks it), or none: the template's
    limit is checked here only when it is the stricter one, so a message is never doubled."""
    if not question.is_column:
        return float("inf")
    return AccessRequest._meta.get_field(question.key).max_length or float("inf")


def _date(value: Any) -> tuple[dt.date | None, list[str]]:
    if value in (None, ""):
        return None, []
    if isinstance(value, dt.date):
        return value, []
    try:
        return dt.date.fromisoformat(str(value)), []
    except ValueError:
        return None, [_("Enter a date as YYYY-MM-DD.")]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def request_update(
    *,
    actor: Any,
    request_id: int,
    changes: dict[str, Any],
    datasets: list[Dataset] | None = None,
    algorithms: list[Algorithm] | None = None,
) -> AccessRequest:
    """Save answers of a draft (or of a request returned for changes). All or nothing.

    The keys are the questions of the request's form (its templates); the datasets are set
    first, because they decide which custodians' questions the form has."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="edit")
        request = locked.request
        payload: dict[str, Any] = {"fields": sorted(changes)}
        if datasets is not None:
            _set_datasets(request, datasets)
            payload["datasets"] = sorted(d.slug for d in datasets)
        form = form_for_request(request)
        unknown = set(changes) - form.writable_keys
        if unknown:
            raise InvalidInput(
                _("Unknown fields."),
                errors={f: [_("Not an answer of this form.")] for f in sorted(unknown)},
            )
        errors: dict[str, list[str]] = {}
        columns: list[str] = []
        extra = dict(request.extra_answers or {})
        for key, value in changes.items():
            question = form.by_key[key]
            stored, problems = _check_value(question, value)
            if problems:
                errors[key] = problems
            if question.is_column:
                setattr(request, key, stored if question.type == QuestionType.ORCID else value)
                columns.append(key)
            else:
                extra[key] = stored
        if extra != (request.extra_answers or {}):
            request.extra_answers = extra
            columns.append("extra_answers")
        cleaned = clean_errors(request, exclude=["requester", "organisation", "reference"])
        for field, messages in cleaned.items():
            errors.setdefault(field, []).extend(messages)
        if errors:
            raise InvalidInput(_("Some answers need correcting; nothing was saved."), errors=errors)
        request.save(update_fields=[*columns, "updated_at"])
        if algorithms is not None:
            request.algorithms.set(algorithms)
            payload["algorithms"] = sorted(f"{a.name} {a.version}" for a in algorithms)
        record(actor=actor, action="edit", request=request, before=request.state, **payload)
    return request


def _set_datasets(request: AccessRequest, datasets: list[Dataset]) -> None:
    wanted = {d.pk for d in datasets}
    request.requested_datasets.exclude(dataset_id__in=wanted).delete()
    # ignore_conflicts: two saves of the same step at once (a double click) both add the same
    # datasets; where the row lock does not serialise them (SQLite), the second must not fail.
    RequestedDataset.objects.bulk_create(
        [RequestedDataset(request=request, dataset=dataset) for dataset in datasets],
        ignore_conflicts=True,
    )


def team_member_invite(*, actor: Any, request_id: int, email: str, role: str = "") -> TeamMember:
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
        from requests_app.services.invitations import has_account, invitation_create

        # Without an account, the email carries a single-use link that creates one.
        invitation_url = (
            "" if has_account(email) else f"{settings.HUB_URL}{invitation_create(member)}"
        )
        notify(
            template="team_invite",
            request=request,
            recipients=[email],
            context={"inviter": actor, "invitation_url": invitation_url},
        )
    return member


def team_member_remove(*, actor: Any, request_id: int, email: str) -> None:
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="edit")
        # (not ``deleted, _``: that would shadow gettext for the message below)
        deleted, _by_model = locked.request.team.filter(email=email.lower()).delete()
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
    """A team member accepts, personally, the current version of the data-use terms of every
    requested dataset (EHDS Art. 68). Only for themselves: the actor is the one who accepts.
    Accepting again after a new version records the new version; accepting what one already
    accepted writes nothing. Once the whole team has accepted, a permit waiting for it is
    activated (the ``permits.activate`` effect)."""
    from requests_app.selectors import terms_status

    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="accept_terms")
        request = locked.request
        member, _created = TeamMember.objects.get_or_create(
            request=request, email=actor.email.lower(), defaults={"role": "applicant"}
        )
        status = terms_status(request)
        done = set(member.acceptances.values_list("terms_id", flat=True))
        new_terms = [t for t in status.terms if t.pk not in done]
        if member.accepted_terms_at is None or new_terms:
            now = timezone.now()
            member.user = actor
            member.accepted_terms_at = now
            member.save(update_fields=["user", "accepted_terms_at"])
            TermsAcceptance.objects.bulk_create(
                [
                    TermsAcceptance(member=member, terms=t, user=actor, accepted_at=now)
                    for t in new_terms
                ]
            )
            grant_view(request, users=[actor])
            record(
                actor=actor,
                action="accept_terms",
                request=request,
                before=request.state,
                email=member.email,
                datasets=sorted(request.datasets.values_list("slug", flat=True)),
                terms=[f"{t.dataset.slug}@v{t.version}" for t in new_terms],
            )
            if request.state == RequestState.PERMITTED and terms_status(request).is_complete:
                outbox.add("permits.activate", key=f"request:{request.pk}", request_id=request.pk)
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


def attachment_add(
    *,
    actor: Any,
    request_id: int,
    kind: str,
    upload: UploadedFile,
    replaces: int | None = None,
) -> Attachment:
    """Attach a file; ``replaces``: the id of a current file of the request it takes the place
    of (that one stays stored for the rounds that were submitted with it)."""
    if kind not in AttachmentKind.values:
        raise InvalidInput(_("Unknown attachment kind."), errors={"kind": [_("Unknown kind.")]})
    content_type, sha256 = _check_upload(upload)
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="edit")
        request = locked.request
        if replaces is not None:
            replaced = request.attachments.filter(pk=replaces, is_current=True).update(
                is_current=False
            )
            if not replaced:
                raise InvalidInput(
                    _("That file is not on this request."),
                    errors={"replaces": [_("No such file.")]},
                )
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


def attachment_remove(*, actor: Any, request_id: int, attachment_id: int) -> Attachment:
    """Take a file off a request the requester may edit. The file stays stored (not current):
    a submitted round that carried it still shows it to its readers."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="edit")
        request = locked.request
        attachment = request.attachments.filter(pk=attachment_id, is_current=True).first()
        if attachment is None:
            raise InvalidInput(
                _("That file is not on this request."), errors={"attachment": [_("No such file.")]}
            )
        attachment.is_current = False
        attachment.save(update_fields=["is_current"])
        audit_record(
            actor=actor,
            action="request.attachment_remove",
            target=request,
            payload={
                "reference": request.reference,
                "kind": attachment.kind,
                "name": attachment.original_name,
                "sha256": attachment.sha256,
            },
        )
    return attachment
