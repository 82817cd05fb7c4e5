"""Domain errors raised by services; the API and the HTML views turn them into answers.

They live here (not in an app) because every app raises them and ``lifes.api`` renders them.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldError, ValidationError
from django.db import router
from django.db.models import UniqueConstraint
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A request that is well-formed but not allowed now. Rendered as JSON with a stable code."""

    status_code = 409
    default_code = "conflict"

    def __init__(
        self, message: str, *, code: str | None = None, errors: dict[str, list[str]] | None = None
    ) -> None:
        # Translated messages are rendered now, in the language of the person who acted.
        message = str(message)
        super().__init__(message)
        self.message = message
        # Each app names its codes in an enum (``<app>/errors.py``); clients read the string.
        self.code = str(code or self.default_code)
        self.errors = {
            field: [str(m) for m in messages] for field, messages in (errors or {}).items()
        }


class InvalidInput(DomainError):
    status_code = 400
    default_code = "invalid"


class NotAllowed(DomainError):
    status_code = 403
    default_code = "permission_denied"


class NotFound(DomainError):
    status_code = 404
    default_code = "not_found"


class InvalidTransition(DomainError):
    status_code = 409
    default_code = "invalid_transition"


class TooManyRequests(DomainError):
    status_code = 429
    default_code = "rate_limited"


def _constraint_errors(instance: Any, exclude: set[str]) -> dict[str, list[str]]:
    """The model's constraints, checked like ``Model.validate_constraints`` does, but each
    failure worded for people: the model's ``constraint_messages`` names the field and the
    sentence; any other constraint gets a plain sentence. Django's default message carries the
    constraint's name ("Constraint “request_period_ordered” is violated"), which must never
    reach a user."""
    known: dict[str, tuple[str, Any]] = getattr(type(instance), "constraint_messages", {})
    using = router.db_for_write(type(instance), instance=instance)
    errors: dict[str, list[str]] = {}
    for model_class, constraints in instance.get_constraints():
        for constraint in constraints:
            try:
                constraint.validate(model_class, instance, exclude=exclude, using=using)
            except ValidationError as exc:
                if constraint.name in known:
                    field, message = known[constraint.name]
                    errors.setdefault(field, []).append(str(message))
                elif (
                    isinstance(constraint, UniqueConstraint)
                    and constraint.fields
                    and (constraint.condition is None)
                ):
                    # Django words these itself ("... with this ... already exists").
                    for field, messages in validation_errors(exc).items():
                        errors.setdefault(field, []).extend(messages)
                else:
                    errors.setdefault(NON_FIELD_ERRORS, []).append(
                        str(_("These values do not fit together; check them and try again."))
                    )
            except FieldError:
                continue  # the constraint reads a field left out of this check
    return errors


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A Django ``ValidationError`` as ``{field: [messages]}``."""
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {"non_field_errors": list(exc.messages)}


def clean_errors(instance: Any, *, exclude: list[str] | None = None) -> dict[str, list[str]]:
    """What ``full_clean`` finds wrong with ``instance``, as field errors fit for a person."""
    excluded = set(exclude or ())
    errors: dict[str, list[str]] = {}
    try:
        instance.full_clean(exclude=list(excluded), validate_constraints=False)
    except ValidationError as exc:
        errors = validation_errors(exc)
    for field, messages in _constraint_errors(instance, excluded).items():
        errors.setdefault(field, []).extend(messages)
    return errors


def full_clean(instance: Any, *, exclude: list[str] | None = None, message: Any = None) -> None:
    """``instance.full_clean()`` that fails as ``InvalidInput`` with field errors: the one way
    services validate a model before saving it."""
    errors = clean_errors(instance, exclude=exclude)
    if errors:
        raise InvalidInput(message or _("Invalid input."), errors=errors)
