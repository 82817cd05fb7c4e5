"""The audit explorer's filter form: shape only; ``audit.selectors.event_search`` applies it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import ActorType


class AuditFilterForm(forms.Form):
    occurred_from = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    occurred_to = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    actor = forms.CharField(
        label=_("Actor"),
        required=False,
        max_length=255,
        help_text=_("Part of the actor's name or email, or their id."),
    )
    actor_type = forms.ChoiceField(
        label=_("Actor type"), required=False, choices=[("", _("Any"))] + list(ActorType.choices)
    )
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        help_text=_("Actions starting with this, e.g. “permit.”."),
    )
    object_type = forms.RegexField(
        r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$",
        label=_("Object type"),
        required=False,
        max_length=64,
        help_text=_("app.model, e.g. “catalogue.dataset”."),
        error_messages={"invalid": _("Use app.model, e.g. “catalogue.dataset”.")},
    )
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    seq_from = forms.IntegerField(
        label=_("From event #"), required=False, min_value=1, max_value=2**62
    )
    seq_to = forms.IntegerField(
        label=_("Until event #"), required=False, min_value=1, max_value=2**62
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("occurred_from")
            and data.get("occurred_to")
            and (data["occurred_from"] > data["occurred_to"])
        ):
            self.add_error("occurred_to", _("The end comes before the start."))
        if data.get("seq_from") and data.get("seq_to") and data["seq_from"] > data["seq_to"]:
            self.add_error("seq_to", _("The last event comes before the first."))
        return data

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``event_search``; empty values mean "any"."""
        data = self.cleaned_data if self.is_bound else {}
        return {name: value for name, value in data.items() if value not in (None, "")}
