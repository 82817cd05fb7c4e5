"""The stewards' consent pages under /consent/.

Stewards of a dataset and hub staff import consents, look participants up, record withdrawals and
national opt-outs, and set the dataset's DUO conditions. Auditors see the same pages without the
forms (a POST answers 403). Anyone else gets 404, as if the dataset had no consent pages.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from consent import services
from consent.csv_import import COLUMNS, REQUIRED_COLUMNS
from consent.forms import (
    ConditionsForm,
    ConsentImportForm,
    OptOutForm,
    ParticipantFindForm,
    WithdrawForm,
)
from consent.permissions import can_manage_consent
from consent.selectors import (
    consent_dataset_get,
    consent_datasets_for,
    dataset_consent_summary,
    participant_get,
)
from lifes.errors import DomainError, InvalidInput, NotAllowed, NotFound


def _context(request: HttpRequest, dataset, **extra) -> dict:
    return {"dataset": dataset, "can_manage": can_manage_consent(request.user, dataset), **extra}


@login_required
@require_http_methods(["GET"])
def dataset_list(request: HttpRequest) -> HttpResponse:
    datasets = consent_datasets_for(request.user)
    if not datasets.exists() and not (request.user.is_staff or request.user.is_auditor):
        raise Http404(_("You steward no datasets."))
    return render(request, "consent/dataset_list.html", {"datasets": datasets})


@login_required
@require_http_methods(["GET"])
def dataset_overview(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = consent_dataset_get(user=request.user, slug=slug)
    return render(
        request,
        "consent/dataset_overview.html",
        _context(
            request,
            dataset,
            summary=dataset_consent_summary(dataset),
            import_form=ConsentImportForm(),
            find_form=ParticipantFindForm(),
            columns=COLUMNS,
            required_columns=REQUIRED_COLUMNS,
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_import(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = consent_dataset_get(user=request.user, slug=slug, for_change=True)
    if request.method == "GET":
        return redirect("consent:dataset_overview", slug=dataset.slug)
    form = ConsentImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request,
            "consent/dataset_overview.html",
            _context(
                request,
                dataset,
                summary=dataset_consent_summary(dataset),
                import_form=form,
                find_form=ParticipantFindForm(),
                columns=COLUMNS,
                required_columns=REQUIRED_COLUMNS,
            ),
            status=400,
        )
    upload = form.cleaned_data["file"]
    try:
        report = services.consent_import(
            actor=request.user,
            dataset=dataset,
            content=upload.read(),
            fmt=form.cleaned_data["type"],
            filename=upload.name or "",
        )
    except services.ConsentImportRefused as exc:
        return render(
            request,
            "consent/import_report.html",
            _context(request, dataset, report=exc.report, filename=upload.name),
            status=400,
        )
    return render(
        request,
        "consent/import_report.html",
        _context(request, dataset, report=report, filename=upload.name),
    )


@login_required
@require_http_methods(["GET"])
def participant_find(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = consent_dataset_get(user=request.user, slug=slug)
    form = ParticipantFindForm(request.GET)
    if form.is_valid():
        pseudonym = form.cleaned_data["pseudonym"]
        try:
            participant_get(user=request.user, dataset=dataset, pseudonym=pseudonym)
        except NotFound:
            form.add_error(
                "pseudonym", _("No participant with this pseudonymous id in this dataset.")
            )
        else:
            return redirect("consent:participant_detail", slug=dataset.slug, pseudonym=pseudonym)
    return render(
        request,
        "consent/dataset_overview.html",
        _context(
            request,
            dataset,
            summary=dataset_consent_summary(dataset),
            import_form=ConsentImportForm(),
            find_form=form,
            columns=COLUMNS,
            required_columns=REQUIRED_COLUMNS,
        ),
        status=404 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET"])
def participant_detail(request: HttpRequest, slug: str, pseudonym: str) -> HttpResponse:
    dataset = consent_dataset_get(user=request.user, slug=slug)
    participant = participant_get(user=request.user, dataset=dataset, pseudonym=pseudonym)
    consents = list(participant.consents.all())
    current = next((c for c in consents if c.is_current), None)
    return render(
        request,
        "consent/participant_detail.html",
        _context(
            request,
            dataset,
            participant=participant,
            consents=consents,
            current=current,
        ),
    )


def _confirm_view(
    request: HttpRequest,
    slug: str,
    pseudonym: str,
    *,
    form_class,
    template: str,
    act: Callable,
    done: str,
) -> HttpResponse:
    dataset = consent_dataset_get(user=request.user, slug=slug, for_change=True)
    participant = participant_get(user=request.user, dataset=dataset, pseudonym=pseudonym)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            act(dataset, form.cleaned_data)
        except DomainError as exc:
            if isinstance(exc, NotFound | NotAllowed):
                raise
            form.add_error(None, exc.message)
        else:
            messages.success(request, done)
            return redirect(
                "consent:participant_detail", slug=dataset.slug, pseudonym=participant.pseudonym
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        template,
        _context(request, dataset, participant=participant, form=form),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def participant_withdraw(request: HttpRequest, slug: str, pseudonym: str) -> HttpResponse:
    return _confirm_view(
        request,
        slug,
        pseudonym,
        form_class=WithdrawForm,
        template="consent/participant_withdraw.html",
        act=lambda dataset, data: services.consent_withdraw(
            actor=request.user, dataset=dataset, pseudonym=pseudonym, note=data["note"]
        ),
        done=_(
            "The withdrawal is recorded. The participant is left out of every cohort from now on."
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def participant_opt_out(request: HttpRequest, slug: str, pseudonym: str) -> HttpResponse:
    return _confirm_view(
        request,
        slug,
        pseudonym,
        form_class=OptOutForm,
        template="consent/participant_opt_out.html",
        act=lambda dataset, data: services.participant_opt_out_record(
            actor=request.user, dataset=dataset, pseudonym=pseudonym
        ),
        done=_(
            "The national opt-out is recorded. The participant is left out of the cohorts "
            "of every permit issued from now on."
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def conditions_edit(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = consent_dataset_get(user=request.user, slug=slug, for_change=True)
    initial = {
        "codes": " ".join(dataset.duo_codes),
        "diseases": " ".join(dataset.duo_diseases),
        "values": _json_or_blank(dataset.duo_values),
    }
    form = ConditionsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.dataset_conditions_set(
                actor=request.user, dataset=dataset, **form.cleaned_data
            )
        except InvalidInput as exc:
            for path, problems in exc.errors.items():
                field = path.split(".", 1)[0]
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, _("The conditions are saved."))
            return redirect(
                reverse("catalogue:dataset_detail", args=[dataset.slug]) + "#conditions"
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "consent/conditions_edit.html",
        _context(request, dataset, form=form),
        status=status,
    )


def _json_or_blank(values: dict) -> str:
    return json.dumps(values) if values else ""
