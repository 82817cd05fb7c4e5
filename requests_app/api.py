"""The request API: reads are filtered lists; every command is a POST on the request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue.models import Algorithm, Dataset
from lifes.api import ErrorSerializer
from lifes.errors import InvalidInput, NotFound
from lifes.files import private_file_response
from lifes.pagination import paginate
from requests_app import schema as _schema  # noqa: F401 - registers the answers' extension
from requests_app import services, workflow
from requests_app.after_models import APPEAL_OUTCOMES, AmendmentKind
from requests_app.answers import diff
from requests_app.application_form import Question, current_templates, merge
from requests_app.clock import clock_data
from requests_app.exports import csv_filename, csv_text
from requests_app.models import (
    OWNER_DECISIONS,
    AccessRequest,
    AttachmentKind,
    DataForm,
    QuestionType,
    RequestState,
    VoteChoice,
)
from requests_app.permissions import situation_of
from requests_app.selectors import (
    after_decision_of,
    bars_liftable_by,
    board_queue,
    request_get,
    request_list,
    waiting_for,
)
from requests_app.services.ehds import latest_check
from requests_app.visibility import attachment_visible, board_reasons, request_view
from requests_app.workflow import Transition, actions_for, resolve

REF = OpenApiParameter(
    "reference",
    str,
    OpenApiParameter.PATH,
    description="The request's reference, e.g. LIFES-R-2026-000123",
)


class RequestSummarySerializer(serializers.Serializer):
    reference = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    round = serializers.IntegerField()
    requester = serializers.CharField(source="requester.email")
    organisation = serializers.CharField(source="organisation.name")
    datasets = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    def get_datasets(self, obj) -> list[str]:
        return [item.dataset.slug for item in obj.requested_datasets.all()]


def answer_field(question: Question) -> serializers.Field | None:
    """The API field of one question, from the template (every one optional: drafts save as
    you go; submission checks completeness). Team and attachments have their own endpoints."""
    common: dict[str, Any] = {"required": False, "help_text": question.label}
    limit = {"max_length": question.max_length} if question.max_length else {}
    kind = question.type
    if kind in (QuestionType.TEXT, QuestionType.LONG_TEXT, QuestionType.DUO_PURPOSE):
        return serializers.CharField(allow_blank=True, **common, **limit)
    if kind == QuestionType.CHOICE:
        return serializers.CharField(allow_blank=True, **common, **limit)
    if kind == QuestionType.EMAIL:
        return serializers.EmailField(allow_blank=True, **common, **limit)
    if kind == QuestionType.ORCID:
        return serializers.CharField(allow_blank=True, max_length=40, **common)
    if kind == QuestionType.MULTI_CHOICE:
        return serializers.ListField(child=serializers.CharField(), **common)
    if kind == QuestionType.MONDO_DISEASES:
        return serializers.ListField(child=serializers.CharField(), **common)
    if kind == QuestionType.YES_NO:
        return serializers.BooleanField(**common)
    if kind == QuestionType.NUMBER:
        return serializers.FloatField(allow_null=True, **common)
    if kind == QuestionType.DATE:
        return serializers.DateField(allow_null=True, **common)
    if kind == QuestionType.DATE_RANGE:
        return DateRangeSerializer(allow_null=True, **common)
    if kind == QuestionType.TABLE_ROWS:
        return serializers.ListField(
            child=serializers.ListField(child=serializers.CharField(allow_blank=True)), **common
        )
    if kind == QuestionType.DATASETS:
        return serializers.SlugRelatedField(
            slug_field="slug",
            many=True,
            required=False,
            queryset=Dataset.objects.filter(is_published=True),
        )
    if kind == QuestionType.ALGORITHMS:
        return serializers.ListField(
            child=serializers.RegexField(r"^[a-z0-9-]+ [^ ]+$"),
            required=False,
            help_text="'name version' of each algorithm",
        )
    return None


class DateRangeSerializer(serializers.Serializer):
    start = serializers.DateField(allow_null=True, required=False)
    end = serializers.DateField(allow_null=True, required=False)


class AnswersSerializer(serializers.Serializer):
    """The answers a requester may write, one field per question of the request's form
    (``context["form"]``; the default template when none is given, as in the schema). The
    schema has one component per template as well (``schema.answers_components``)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        form = self.context.get("form") or merge(current_templates())
        fields = {}
        for question in form.questions:
            field = answer_field(question)
            if field is not None:
                fields[question.key] = field
        return fields

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # A key the request's form does not ask (another custodian's question, a typo) is a
        # field error, not silently dropped: the answer would otherwise be lost unnoticed.
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: [_("Not an answer of this form.")] for key in unknown}
                )
        return super().to_internal_value(data)

    def validate_algorithms(self, value: list[str]) -> list[Algorithm]:
        found = []
        for item in value:
            name, version = item.split(" ", 1)
            algorithm = Algorithm.objects.filter(name=name, version=version).first()
            if algorithm is None:
                raise serializers.ValidationError(f"Unknown algorithm '{item}'.")
            found.append(algorithm)
        return found


def _split(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "changes": {k: v for k, v in data.items() if k not in ("datasets", "algorithms")},
        "datasets": data.get("datasets"),
        "algorithms": data.get("algorithms"),
    }


def request_detail_data(request_obj, http_request: Request) -> dict[str, Any]:
    """The request as the asking person may see it: rendered from their ``RequestView``."""
    user = http_request.user
    view = request_view(user=user, request=request_obj)
    roles = set(view.roles)
    current = situation_of(request_obj)
    latest = view.latest

    def url(name: str, *args: Any) -> str:
        return http_request.build_absolute_uri(reverse(name, args=args))

    return {
        **after_decision_of(request_obj),
        "reference": request_obj.reference,
        "title": request_obj.title,
        "state": request_obj.state,
        "situation": current,
        "round": request_obj.round,
        "requester": request_obj.requester.email,
        "organisation": request_obj.organisation.name,
        "your_roles": sorted(str(r) for r in roles),
        "your_actions": [t.action for t in actions_for(current=current, roles=roles)],
        "seen_as": view.sight.describe(),
        "submitted_answers": latest.answers if latest else None,
        "team": (
            [{"email": m.email, "role": m.role} for m in view.team]
            if view.team is not None
            else None
        ),
        "attachments": [
            {
                "id": a.pk,
                "kind": a.kind,
                "name": a.original_name,
                "size": a.size,
                "sha256": a.sha256,
                "download_url": url("request_attachment", request_obj.reference, a.pk),
            }
            for a in view.attachments
        ],
        "datasets": [
            {
                "id": item.dataset.slug,
                "decision": item.decision,
                "conditions": item.conditions,
                "reason": item.reason,
            }
            for item in view.decisions
        ],
        "stages": [
            {
                "board": s.stage.board.name,
                "round": s.stage.round,
                "order": s.stage.order,
                "state": s.stage.state,
                "deadline": s.stage.deadline,
                "decision_note": s.stage.decision_note,
                "votes": s.vote_count,
                "votes_cast": (
                    [
                        {"voter": v.voter.email, "choice": v.choice, "comment": v.comment}
                        for v in s.votes
                    ]
                    if s.votes is not None
                    else None
                ),
                "declarations": (
                    [
                        {
                            "member": d.member.email,
                            "has_conflict": d.has_conflict,
                            "statement": d.statement,
                        }
                        for d in s.declarations
                    ]
                    if s.declarations is not None
                    else None
                ),
            }
            for s in view.stages
        ],
        "comments": [
            {
                "author": c.author.email,
                "body": c.body,
                "is_internal": c.is_internal,
                "round": c.round,
                "created_at": c.created_at,
            }
            for c in view.comments
        ],
        "checks": [
            {
                "name": c.name,
                "dataset": c.dataset.slug if c.dataset else None,
                "status": c.status,
                "explanation": c.explanation,
            }
            for c in view.checks
        ],
        # The EHDS statutory clock (CONTRACTS.md) and the completeness check (services/ehds.py).
        "clock": clock_data(getattr(request_obj, "statutory_clock", None)),
        "completeness": completeness_data(request_obj),
        # what the boards' decisions say to the requester (visibility.board_reasons): the
        # author only for those who may read the deliberation, never anyone's vote
        "board_reasons": [
            {
                "board": r.stage.board.name,
                "round": r.stage.round,
                "outcome": r.stage.state,
                "is_note": r.is_note,
                "text": r.text,
                "author": r.author.email if r.author is not None else None,
            }
            for r in board_reasons(view)
        ],
        # EHDS: what of each dataset is asked for, next to its dictionary; the terms in full.
        "minimisation": [
            {
                "dataset": m.item.dataset.slug,
                "variables": list(m.answers.variables) if m.answers else [],
                "subset": m.answers.subset if m.answers else "",
                "population": m.answers.population if m.answers else "",
                "data_from": m.answers.data_from if m.answers else None,
                "data_until": m.answers.data_until if m.answers else None,
                "data_form": m.answers.data_form if m.answers else "",
                "pseudonymisation_reason": m.answers.pseudonymisation_reason if m.answers else "",
                "dictionary": [v.name for v in m.dictionary],
            }
            for m in view.minimisation
        ],
        "terms": [
            {"dataset": t.dataset.slug, "version": t.version, "title": t.title, "text": t.text}
            for t in view.terms
        ],
        "terms_accepted": (
            [{"email": e, "accepted": done} for e, done in view.acceptances]
            if view.acceptances is not None
            else None
        ),
    }


def completeness_data(request_obj: AccessRequest) -> dict[str, Any] | None:
    check = latest_check(request_obj)
    if check is None:
        return None
    return {
        "round": check.round,
        "outcome": check.outcome,
        "missing_items": check.missing_items,
        "checked_by": check.checked_by.get_full_name(),
        "checked_at": check.checked_at,
        "complete_by": check.complete_by,
    }


class ClockSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    paused = serializers.BooleanField()
    days_left = serializers.IntegerField(allow_null=True)
    extended = serializers.BooleanField()
    track = serializers.CharField()
    stopped_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    within_deadline = serializers.BooleanField(allow_null=True)


class RequestDetailOutputSerializer(serializers.Serializer):
    reference = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    situation = serializers.CharField()
    round = serializers.IntegerField()
    requester = serializers.CharField()
    organisation = serializers.CharField()
    your_roles = serializers.ListField(child=serializers.CharField())
    your_actions = serializers.ListField(child=serializers.CharField())
    seen_as = serializers.CharField(help_text="Whose view this is: what is shown, what left out")
    submitted_answers = serializers.DictField(allow_null=True)
    team = serializers.ListField(
        child=serializers.DictField(), allow_null=True, help_text="null: private for you"
    )
    attachments = serializers.ListField(child=serializers.DictField())
    datasets = serializers.ListField(child=serializers.DictField())
    stages = serializers.ListField(
        child=serializers.DictField(),
        help_text="votes, votes_cast and declarations are null for those who may not see them",
    )
    comments = serializers.ListField(child=serializers.DictField())
    checks = serializers.ListField(child=serializers.DictField())
    clock = ClockSerializer(allow_null=True, help_text="null until the application is complete")
    completeness = serializers.DictField(allow_null=True)
    board_reasons = serializers.ListField(
        child=serializers.DictField(),
        help_text="the boards' note and reasons for changes or refusal; author null unless you "
        "may see the deliberation",
    )
    fee = serializers.DictField(
        allow_null=True, help_text="The fee fixed at the first submission (Art. 62)"
    )
    amendments = serializers.ListField(
        child=serializers.DictField(), help_text="Amendments and renewals (Art. 68)"
    )
    renewals_left = serializers.IntegerField()
    appeals = serializers.ListField(child=serializers.DictField())
    minimisation = serializers.ListField(child=serializers.DictField())
    terms = serializers.ListField(child=serializers.DictField())
    terms_accepted = serializers.ListField(
        child=serializers.DictField(), allow_null=True, help_text="null: private for you"
    )


class RequestListCreateApi(APIView):
    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(
            choices=RequestState.choices, required=False, allow_blank=True, default=""
        )

    class InputSerializer(AnswersSerializer):
        def get_fields(self) -> dict[str, serializers.Field]:
            fields = super().get_fields()
            fields["title"].required = True  # a new request needs its title
            return fields

    @extend_schema(
        parameters=[FilterSerializer],
        responses=RequestSummarySerializer(many=True),
        operation_id="requests_list",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginate(
            request,
            self,
            request_list(user=request.user, **filters.validated_data),
            RequestSummarySerializer,
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: RequestDetailOutputSerializer},
        operation_id="requests_create",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(
            data=request.data, context={"form": _form_for([], request.data)}
        )
        data.is_valid(raise_exception=True)
        created = services.request_create(actor=request.user, title=data.validated_data["title"])
        rest = {k: v for k, v in data.validated_data.items() if k != "title"}
        if rest:
            services.request_update(actor=request.user, request_id=created.pk, **_split(rest))
        created.refresh_from_db()
        return Response(request_detail_data(created, request), status=status.HTTP_201_CREATED)


def _form_for(datasets: list[Dataset], payload: Any) -> Any:
    """The form of a request with ``datasets``, or of those the payload names: datasets named
    in the same call add their custodians' questions (the service sets them first, too)."""
    if isinstance(payload, dict) and isinstance(payload.get("datasets"), list):
        slugs = [s for s in payload["datasets"] if isinstance(s, str)]
        datasets = list(Dataset.objects.filter(is_published=True, slug__in=slugs))
    return merge(current_templates(datasets))


def _answers_for(obj: AccessRequest, payload: Any) -> AnswersSerializer:
    form = _form_for(list(obj.datasets.all()), payload)
    return AnswersSerializer(data=payload, partial=True, context={"form": form})


class RequestDetailApi(APIView):
    @extend_schema(
        parameters=[REF], responses=RequestDetailOutputSerializer, operation_id="requests_retrieve"
    )
    def get(self, request: Request, reference: str) -> Response:
        obj = request_get(user=request.user, reference=reference)
        return Response(request_detail_data(obj, request))

    @extend_schema(
        parameters=[REF],
        request=AnswersSerializer,
        responses=RequestDetailOutputSerializer,
        operation_id="requests_update",
    )
    def patch(self, request: Request, reference: str) -> Response:
        """Save answers of a draft as you go: all valid answers are saved, or none."""
        obj = request_get(user=request.user, reference=reference)
        data = _answers_for(obj, request.data)
        data.is_valid(raise_exception=True)
        services.request_update(
            actor=request.user, request_id=obj.pk, **_split(data.validated_data)
        )
        obj.refresh_from_db()
        return Response(request_detail_data(obj, request))


def _command(name: str, input_serializer: type[serializers.Serializer] | None, call):
    """One APIView class per command: POST /api/v1/requests/{reference}/<name>."""

    class CommandApi(APIView):
        InputSerializer = input_serializer

        @extend_schema(
            parameters=[REF],
            request=input_serializer,
            responses=RequestDetailOutputSerializer,
            operation_id=f"requests_{name.replace('-', '_')}",
        )
        def post(self, request: Request, reference: str) -> Response:
            obj = request_get(user=request.user, reference=reference)
            kwargs: dict[str, Any] = {}
            if input_serializer is not None:
                data = input_serializer(data=request.data)
                data.is_valid(raise_exception=True)
                kwargs = dict(data.validated_data)
            call()(actor=request.user, request_id=obj.pk, **kwargs)
            obj.refresh_from_db()
            return Response(request_detail_data(obj, request))

    CommandApi.__name__ = CommandApi.__qualname__ = (
        "Request" + "".join(p.title() for p in name.split("-")) + "Api"
    )
    return CommandApi


def _transition_command(transition: Transition):
    serializer = resolve(transition.api_input) if transition.api_input else None
    return _command(transition.api, serializer, lambda: resolve(transition.service))


def commands() -> dict[str, type[APIView]]:
    """The API's commands, one per row of the transition table that names an API slug, plus
    ``team`` and ``team-remove`` (the team is part of the ``edit`` action, like PATCH)."""
    table = {t.api: _transition_command(t) for t in workflow.TRANSITIONS if t.api}
    table["team"] = _command("team", TeamInviteSerializer, lambda: services.team_member_invite)
    table["team-remove"] = _command(
        "team-remove", TeamRemoveSerializer, lambda: services.team_member_remove
    )
    # EHDS Art. 66: per dataset, what is asked for (part of editing, like the team).
    table["minimisation"] = _command("minimisation", MinimisationSerializer, lambda: _minimise)
    return table


class MinimisationSerializer(serializers.Serializer):
    dataset = serializers.SlugField(max_length=100)
    variables = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list, max_length=500
    )
    subset = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    population = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )
    data_from = serializers.DateField(required=False, allow_null=True, default=None)
    data_until = serializers.DateField(required=False, allow_null=True, default=None)
    data_form = serializers.ChoiceField(
        choices=DataForm.choices, required=False, allow_blank=True, default=""
    )
    pseudonymisation_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=3000
    )


def _minimise(*, actor: Any, request_id: int, dataset: str, **answers: Any) -> Any:
    return services.minimisation_set(
        actor=actor, request_id=request_id, dataset_slug=dataset, **answers
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TeamInviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.CharField(required=False, allow_blank=True, max_length=100)


class TeamRemoveSerializer(serializers.Serializer):
    email = serializers.EmailField()


class DeclareSerializer(serializers.Serializer):
    has_conflict = serializers.BooleanField()
    statement = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class VoteSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=VoteChoice.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class CommentSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)
    is_internal = serializers.BooleanField(required=False, default=False)


class CloseRoundSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=VoteChoice.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class DecideSerializer(serializers.Serializer):
    dataset_slug = serializers.SlugField()
    decision = serializers.ChoiceField(choices=OWNER_DECISIONS)
    conditions = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class AttachmentUploadApi(APIView):
    parser_classes = [parsers.MultiPartParser]

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=AttachmentKind.choices)
        file = serializers.FileField()

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        original_name = serializers.CharField()
        size = serializers.IntegerField()
        sha256 = serializers.CharField()

    @extend_schema(
        parameters=[REF],
        request={"multipart/form-data": InputSerializer},
        responses={201: OutputSerializer},
        operation_id="requests_attachments_create",
    )
    def post(self, request: Request, reference: str) -> Response:
        obj = request_get(user=request.user, reference=reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            actor=request.user,
            request_id=obj.pk,
            kind=data.validated_data["kind"],
            upload=data.validated_data["file"],
        )
        return Response(self.OutputSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentDownloadApi(APIView):
    """An attachment's file, for whoever the visibility rule lets read it (a token works as
    well as a session); 404 alike for a missing attachment and one that is not yours."""

    @extend_schema(
        parameters=[REF],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as a download"
            )
        },
        operation_id="requests_attachments_download",
    )
    def get(self, request: Request, reference: str, attachment_id: int) -> HttpResponse:
        obj = request_get(user=request.user, reference=reference)
        attachment = attachment_visible(user=request.user, request=obj, attachment_id=attachment_id)
        if attachment is None:
            raise NotFound(_("No such attachment."))
        return private_file_response(
            request,
            attachment.file,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )


class RequestExportCsvApi(APIView):
    """The request as the asking person may see it, as CSV (part, item, value, detail)."""

    @extend_schema(
        parameters=[REF],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV")},
        operation_id="requests_export_csv",
    )
    def get(self, request: Request, reference: str) -> HttpResponse:
        obj = request_get(user=request.user, reference=reference)
        view = request_view(user=request.user, request=obj)
        response = HttpResponse(csv_text(view), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{csv_filename(view)}"'
        return response


class RequestDiffApi(APIView):
    class FilterSerializer(serializers.Serializer):
        from_round = serializers.IntegerField(min_value=1)
        to_round = serializers.IntegerField(min_value=1)

    class OutputSerializer(serializers.Serializer):
        field = serializers.CharField()
        section = serializers.CharField()
        before = serializers.JSONField(allow_null=True)
        after = serializers.JSONField(allow_null=True)

    @extend_schema(
        parameters=[REF, FilterSerializer],
        responses=OutputSerializer(many=True),
        operation_id="requests_diff",
    )
    def get(self, request: Request, reference: str) -> Response:
        obj = request_get(user=request.user, reference=reference)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        view = request_view(user=request.user, request=obj)
        wanted = (params.validated_data["from_round"], params.validated_data["to_round"])
        missing = [r for r in wanted if view.round_answers(r) is None]
        if missing:
            raise InvalidInput(
                _("No such round."),
                errors={"round": [_("No round %(round)s.") % {"round": missing[0]}]},
            )
        changes = diff(
            view.round_answers(wanted[0]), view.round_answers(wanted[1]), view.round_form(wanted[1])
        )
        return Response(self.OutputSerializer(changes, many=True).data)


class BoardQueueApi(APIView):
    class OutputSerializer(serializers.Serializer):
        reference = serializers.CharField(source="request.reference")
        title = serializers.CharField(source="request.title")
        requester = serializers.CharField(source="request.requester.email")
        deadline = serializers.DateTimeField()
        vote_count = serializers.IntegerField()
        has_my_vote = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="boards_queue")
    def get(self, request: Request, board_id: int) -> Response:
        _board, stages = board_queue(user=request.user, board_id=board_id)
        return paginate(request, self, stages, self.OutputSerializer)


class WaitingApi(APIView):
    class OutputSerializer(serializers.Serializer):
        reference = serializers.CharField(source="request.reference")
        title = serializers.CharField(source="request.title")
        state = serializers.CharField(source="request.state")
        why = serializers.CharField()
        label = serializers.CharField(help_text="What to do, in the reader's language")

    @extend_schema(responses=OutputSerializer(many=True), operation_id="waiting_for_me")
    def get(self, request: Request) -> Response:
        # Bounded like every list: ?limit= (default WAITING_PAGE_SIZE, at most 200).
        try:
            limit = min(max(int(request.query_params.get("limit", 0)), 0), 200)
        except ValueError:
            limit = 0
        items = waiting_for(request.user, limit=limit or None)
        return Response(self.OutputSerializer(items, many=True).data)


class BarListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        user = serializers.CharField(source="user.email")
        dataset = serializers.CharField(source="dataset.slug")
        reason = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), operation_id="bars_list")
    def get(self, request: Request) -> Response:
        """The bars in force that you may lift (stewards: on your datasets)."""
        return paginate(request, self, bars_liftable_by(request.user), self.OutputSerializer)


class BarLiftApi(APIView):
    @extend_schema(
        request=None,
        responses={200: BarListApi.OutputSerializer, 403: ErrorSerializer, 409: ErrorSerializer},
        operation_id="bars_lift",
    )
    def post(self, request: Request, bar_id: int) -> Response:
        """Lift a bar: the person may ask for the dataset again."""
        bar = services.access_bar_lift(actor=request.user, bar_id=bar_id)
        return Response(BarListApi.OutputSerializer(bar).data)


class MissingItemsSerializer(serializers.Serializer):
    missing_items = serializers.ListField(
        child=serializers.CharField(max_length=500), min_length=1, max_length=50
    )


class ExtendClockSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    months = serializers.IntegerField(required=False, min_value=1)


class AmendSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AmendmentKind.choices)
    changes = serializers.CharField(max_length=3000, help_text="What changes.")
    reason = serializers.CharField(max_length=3000, help_text="Why the change is needed.")
    new_period_end = serializers.DateField(
        required=False, allow_null=True, help_text="A renewal's new end of the period."
    )
    team = serializers.ListField(
        child=serializers.EmailField(), required=False, help_text="Email addresses to add."
    )
    algorithms = serializers.ListField(
        child=serializers.CharField(), required=False, help_text='"<name> <version>" to add.'
    )

    def validate_algorithms(self, value: list[str]) -> list[Algorithm]:
        found = []
        for item in value:
            name, _sep, version = item.strip().partition(" ")
            algorithm = Algorithm.objects.filter(name=name, version=version.strip()).first()
            if algorithm is None:
                raise serializers.ValidationError(f"Unknown algorithm '{item}'.")
            found.append(algorithm)
        return found


class AppealSerializer(serializers.Serializer):
    reasons = serializers.CharField(max_length=5000)


class AppealDecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=APPEAL_OUTCOMES)
    reasons = serializers.CharField(max_length=5000)
