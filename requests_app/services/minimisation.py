"""Data minimisation per requested dataset (EHDS Art. 66): which variables of the dataset's
data dictionary (or which described subset), for which population and period, and whether
anonymised data will do or why pseudonymised data are needed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from lifes.errors import InvalidInput, NotFound
from requests_app.errors import Code
from requests_app.models import DataForm, DataMinimisation, RequestedDataset
from requests_app.services.common import lock_and_authorize, record

MINIMISATION_FIELDS = (
    "variables",
    "subset",
    "population",
    "data_from",
    "data_until",
    "data_form",
    "pseudonymisation_reason",
)


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[field] = [_("Enter a date as YYYY-MM-DD.")]
        return None


def minimisation_set(
    *,
    actor: Any,
    request_id: int,
    dataset_slug: str,
    variables: list[str] | None = None,
    subset: str = "",
    population: str = "",
    data_from: Any = None,
    data_until: Any = None,
    data_form: str = "",
    pseudonymisation_reason: str = "",
) -> DataMinimisation:
    """Record what of one requested dataset is needed; part of editing the request (the
    ``edit`` row). All or nothing: a variable the dataset's dictionary does not hold, or
    pseudonymised data without a reason, refuses the whole answer."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="edit")
        request = locked.request
        item = (
            RequestedDataset.objects.select_related("dataset")
            .filter(request=request, dataset__slug=dataset_slug)
            .first()
        )
        if item is None:
            raise NotFound(_("This request does not ask for that dataset."))
        errors: dict[str, list[str]] = {}
        chosen = [str(v).strip() for v in (variables or []) if str(v).strip()]
        known = set(item.dataset.variables.values_list("name", flat=True))
        unknown = sorted(set(chosen) - known)
        code = None
        if unknown:
            code = Code.UNKNOWN_VARIABLES
            errors["variables"] = [
                _("Not in the data dictionary of %(dataset)s: %(names)s.")
                % {"dataset": item.dataset.title, "names": ", ".join(unknown)}
            ]
        if data_form and data_form not in DataForm.values:
            errors["data_form"] = [_("Choose anonymised or pseudonymised data.")]
        reason = (pseudonymisation_reason or "").strip()
        if data_form == DataForm.PSEUDONYMISED and not reason:
            code = code or Code.PSEUDONYMISATION_UNJUSTIFIED
            errors["pseudonymisation_reason"] = [
                _("Explain why anonymised data will not do (EHDS Art. 66(3)).")
            ]
        start = _date(data_from, "data_from", errors)
        end = _date(data_until, "data_until", errors)
        if start and end and end < start:
            errors["data_until"] = [_("The end must not come before the start.")]
        values = {
            "variables": list(dict.fromkeys(chosen)),
            "subset": (subset or "").strip(),
            "population": (population or "").strip(),
            "data_from": start,
            "data_until": end,
            "data_form": data_form or "",
            "pseudonymisation_reason": reason if data_form == DataForm.PSEUDONYMISED else "",
        }
        row = DataMinimisation(item=item, **values)
        try:
            row.clean_fields(exclude=["item"])
        except Exception as exc:  # noqa: BLE001 - ValidationError; reported as field errors
            for field, messages in getattr(exc, "message_dict", {}).items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise InvalidInput(
                _("The minimisation answers need correcting; nothing was saved."),
                code=code or "invalid",
                errors=errors,
            )
        minimisation, _created = DataMinimisation.objects.update_or_create(
            item=item, defaults=values
        )
        record(
            actor=actor,
            action="minimisation_set",
            request=request,
            before=request.state,
            dataset=dataset_slug,
            variables=values["variables"],
            data_form=values["data_form"],
        )
    return minimisation
