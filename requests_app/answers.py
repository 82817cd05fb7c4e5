"""The answers of a request: its Five Safes sections, what submission requires, the snapshot
kept per round, the diff between rounds, and which answers are private."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from requests_app.models import AccessRequest, AttachmentKind


@dataclass(frozen=True)
class Section:
    key: str
    title: Any
    fields: tuple[str, ...]
    intro: Any


SECTIONS: tuple[Section, ...] = (
    Section(
        "project",
        _("Safe project"),
        (
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
        ),
        _("What you want to learn, and why it is in the public interest."),
    ),
    Section(
        "people",
        _("Safe people"),
        ("pi_name", "pi_email", "pi_orcid", "team"),
        _("Who leads the work and who will see the results."),
    ),
    Section("data", _("Safe data"), ("datasets",), _("The datasets your algorithms will visit.")),
    Section(
        "settings",
        _("Safe settings"),
        (
            "algorithms",
            "gdpr_art6_basis",
            "gdpr_art9_basis",
            "ethics_reference",
            "ethics_committee",
            "ethics_expires_on",
            "ethics_letter",
            "dpia_done",
            "dpia_summary",
            "processing_outside_eea",
            "outside_eea_countries",
        ),
        _("The algorithms that will run, and the legal and ethical basis."),
    ),
    Section(
        "outputs",
        _("Safe outputs"),
        ("expected_outputs", "period_start", "period_end"),
        _("What leaves the data stations, and for how long you need access."),
    ),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)
# Answers that reviewers see only after declaring they have no conflict of interest; data
# owners and recused members never see them (commercially sensitive or personal contact data).
PRIVATE_FIELDS = frozenset(
    {"funding_source", "commercial_interests", "pi_email", "dpia_summary", "team"}
)


def section_of(field: str) -> str:
    for section in SECTIONS:
        if field in section.fields:
            return section.key
    return "project"


def snapshot(request: AccessRequest) -> dict[str, Any]:
    """Every answer as plain JSON, in a stable shape: what the boards review for this round."""
    simple = {
        name: getattr(request, name)
        for section in SECTIONS
        for name in section.fields
        if name not in ("team", "datasets", "algorithms", "ethics_letter")
    }
    for name in ("ethics_expires_on", "period_start", "period_end"):
        value = simple[name]
        simple[name] = value.isoformat() if value else None
    letter = (
        request.attachments.filter(kind=AttachmentKind.ETHICS_LETTER, is_current=True)
        .order_by("-uploaded_at")
        .first()
    )
    return {
        **simple,
        "organisation": request.organisation.name,
        "team": [{"email": m.email, "role": m.role} for m in request.team.order_by("email")],
        "datasets": sorted(request.datasets.values_list("slug", flat=True)),
        "algorithms": [
            f"{a.name} {a.version} ({a.digest})"
            for a in request.algorithms.order_by("name", "version")
        ],
        "ethics_letter": (
            {"name": letter.original_name, "sha256": letter.sha256} if letter else None
        ),
        "attachments": [
            {"kind": a.kind, "name": a.original_name, "sha256": a.sha256}
            for a in request.attachments.filter(is_current=True).order_by("uploaded_at")
        ],
    }


def answers_digest(answers: dict[str, Any]) -> str:
    canonical = json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers that changed between two rounds, in section order."""
    order = [f for s in SECTIONS for f in s.fields] + ["organisation", "attachments"]
    keys = order + sorted(set(before) | set(after) - set(order))
    return [
        {
            "field": key,
            "section": section_of(key),
            "before": before.get(key),
            "after": after.get(key),
        }
        for key in keys
        if before.get(key) != after.get(key)
    ]


def redact(answers: dict[str, Any], *, can_see_private: bool) -> dict[str, Any]:
    if can_see_private:
        return answers
    return {k: ("(private)" if k in PRIVATE_FIELDS else v) for k, v in answers.items()}


def missing_answers(request: AccessRequest) -> dict[str, list[str]]:
    """What submission still needs, per field, in words. Empty when the request is complete."""
    errors: dict[str, list[str]] = {}

    def need(field: str, message: str) -> None:
        errors.setdefault(field, []).append(str(message))

    for field, label in (
        ("title", _("a title")),
        ("lay_summary", _("a lay summary")),
        ("scientific_abstract", _("a scientific abstract")),
        ("ehds_category", _("the EHDS purpose")),
        ("purpose_code", _("the primary research purpose")),
        ("pi_name", _("the principal investigator")),
        ("pi_email", _("the principal investigator's email")),
        ("expected_outputs", _("the expected outputs")),
        ("period_start", _("the start of the period")),
        ("period_end", _("the end of the period")),
    ):
        if not getattr(request, field):
            need(field, _("Give %(what)s.") % {"what": label})
    if request.purpose_code == "DUO:0000007" and not request.purpose_diseases:
        need("purpose_diseases", _("Disease-specific research needs at least one disease."))
    if not request.no_prohibited_use:
        need("no_prohibited_use", _("Confirm that the work involves none of the prohibited uses."))
    if request.period_start and request.period_end and request.period_end <= request.period_start:
        need("period_end", _("The end of the period must come after its start."))
    datasets = list(request.datasets.all())
    if not datasets:
        need("datasets", _("Choose at least one dataset."))
    if not request.algorithms.exists():
        need("algorithms", _("Choose at least one visiting algorithm."))
    if any(d.contains_personal_data for d in datasets):
        if not request.gdpr_art6_basis:
            need("gdpr_art6_basis", _("Personal data needs a GDPR Art. 6 legal basis."))
        if not request.gdpr_art9_basis:
            need("gdpr_art9_basis", _("Health data needs a GDPR Art. 9(2) condition."))
        for field, label in (
            ("ethics_reference", _("the ethics approval reference")),
            ("ethics_committee", _("the approving ethics committee")),
            ("ethics_expires_on", _("the date the ethics approval ends")),
        ):
            if not getattr(request, field):
                need(field, _("Give %(what)s.") % {"what": label})
        if not request.attachments.filter(
            kind=AttachmentKind.ETHICS_LETTER, is_current=True
        ).exists():
            need("ethics_letter", _("Attach the ethics approval letter."))
    if request.processing_outside_eea and not request.outside_eea_countries:
        need("outside_eea_countries", _("Name the countries outside the EEA."))
    return errors


def missing_by_section(errors: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    grouped: dict[str, dict[str, list[str]]] = {key: {} for key in SECTION_KEYS}
    for field, messages in errors.items():
        grouped[section_of(field)][field] = messages
    return grouped


_EXTRA_LABELS = {
    "team": _("Team members"),
    "datasets": _("Datasets"),
    "algorithms": _("Visiting algorithms"),
    "ethics_letter": _("Ethics approval letter"),
    "attachments": _("Attachments"),
    "organisation": _("Organisation"),
}


def _label(field: str) -> str:
    if field in _EXTRA_LABELS:
        return str(_EXTRA_LABELS[field])
    try:
        label = str(AccessRequest._meta.get_field(field).verbose_name)
        return label[:1].upper() + label[1:]  # keep acronyms (EHDS, GDPR, DPIA) as they are
    except Exception:  # noqa: BLE001 - an answer of an older round may name a retired field
        return field.replace("_", " ").capitalize()


def _text(field: str, value: Any) -> str:
    from consent import vocabulary

    if value in (None, "", [], {}):
        return "—"
    if value == "(private)":
        return str(_("(private)"))
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    try:
        model_field = AccessRequest._meta.get_field(field)
    except Exception:  # noqa: BLE001 - not a model field (team, datasets, …)
        model_field = None
    if getattr(model_field, "choices", None) and isinstance(value, str):
        return str(dict(model_field.flatchoices).get(value, value))
    if field in ("purpose_code", "research_types"):
        codes = value if isinstance(value, list) else [value]
        return "; ".join(
            f"{vocabulary.duo_term(c).label} ({c})" if vocabulary.is_duo(c) else c for c in codes
        )
    if field == "purpose_diseases":
        return "; ".join(
            f"{vocabulary.mondo_label(c)} ({c})" if vocabulary.is_mondo(c) else c for c in value
        )
    if isinstance(value, dict):
        return f"{value.get('name', '')} (sha256 {str(value.get('sha256', ''))[:12]}…)"
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                parts.append(" ".join(str(v) for k, v in item.items() if k != "sha256" and v))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(value)


def display(answers: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Submitted answers by Five Safes section, with labels and readable values."""
    shown: set[str] = set()
    sections = []
    for section in SECTIONS:
        rows = [(_label(f), _text(f, answers.get(f))) for f in section.fields if f in answers]
        shown.update(section.fields)
        sections.append((str(section.title), rows))
    rest = [(_label(f), _text(f, v)) for f, v in answers.items() if f not in shown]
    if rest:
        sections.append((str(_("Other")), rest))
    return sections
