"""The request API: reads are filtered lists; every command is a POST on the request."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue.models import Algorithm, Dataset
from lifes.errors import InvalidInput
from lifes.pagination import paginate
from requests_app import services
from requests_app.answers import diff, redact
from requests_app.models import AttachmentKind, RequestState, VoteChoice
from requests_app.permissions import can_see_private, roles_of, situation_of
from requests_app.selectors import board_queue, request_get, request_list, waiting_for
from requests_app.services.drafting import EDITABLE_FIELDS
from requests_app.workflow import actions_for

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


class AnswersSerializer(serializers.Serializer):
    """The answers a requester may write; every field optional (drafts save as you go)."""

    title = serializers.CharField(max_length=300, required=False)
    lay_summary = serializers.CharField(required=False, allow_blank=True)
    scientific_abstract = serializers.CharField(required=False, allow_blank=True)
    ehds_category = serializers.CharField(required=False, allow_blank=True, max_length=1)
    purpose_code = serializers.CharField(required=False, allow_blank=True, max_length=11)
    research_types = serializers.ListField(child=serializers.CharField(), required=False)
    purpose_diseases = serializers.ListField(child=serializers.CharField(), required=False)
    is_commercial = serializers.BooleanField(required=False)
    funding_source = serializers.CharField(required=False, allow_blank=True, max_length=300)
    commercial_interests = serializers.CharField(required=False, allow_blank=True)
    no_prohibited_use = serializers.BooleanField(required=False)
    pi_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    pi_email = serializers.EmailField(required=False, allow_blank=True)
    pi_orcid = serializers.CharField(required=False, allow_blank=True, max_length=40)
    processing_outside_eea = serializers.BooleanField(required=False)
    outside_eea_countries = serializers.CharField(required=False, allow_blank=True, max_length=200)
    gdpr_art6_basis = serializers.CharField(required=False, allow_blank=True, max_length=32)
    gdpr_art9_basis = serializers.CharField(required=False, allow_blank=True, max_length=32)
    ethics_reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    ethics_committee = serializers.CharField(required=False, allow_blank=True, max_length=200)
    ethics_expires_on = serializers.DateField(required=False, allow_null=True)
    dpia_done = serializers.BooleanField(required=False)
    dpia_summary = serializers.CharField(required=False, allow_blank=True)
    expected_outputs = serializers.CharField(required=False, allow_blank=True)
    period_start = serializers.DateField(required=False, allow_null=True)
    period_end = serializers.DateField(required=False, allow_null=True)
    datasets = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        required=False,
        queryset=Dataset.objects.filter(is_published=True),
    )
    algorithms = serializers.ListField(
        child=serializers.RegexField(r"^[a-z0-9-]+ [^ ]+$"),
        required=False,
        help_text="'name version' of each algorithm",
    )

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
        "changes": {k: v for k, v in data.items() if k in EDITABLE_FIELDS},
        "datasets": data.get("datasets"),
        "algorithms": data.get("algorithms"),
    }


def request_detail_data(request_obj, user) -> dict[str, Any]:
    roles = roles_of(user, request_obj)
    current = situation_of(request_obj)
    submissions = list(request_obj.submissions.order_by("round"))
    answers = submissions[-1].answers if submissions else None
    private = can_see_private(user, request_obj, roles)
    return {
        "reference": request_obj.reference,
        "title": request_obj.title,
        "state": request_obj.state,
        "situation": current,
        "round": request_obj.round,
        "requester": request_obj.requester.email,
        "organisation": request_obj.organisation.name,
        "your_roles": sorted(str(r) for r in roles),
        "your_actions": [t.action for t in actions_for(current=current, roles=roles)],
        "submitted_answers": redact(answers, can_see_private=private) if answers else None,
        "datasets": [
            {
                "id": item.dataset.slug,
                "decision": item.decision,
                "conditions": item.conditions,
                "reason": item.reason,
            }
            for item in request_obj.requested_datasets.select_related("dataset")
        ],
        "stages": [
            {
                "board": s.board.name,
                "round": s.round,
                "order": s.order,
                "state": s.state,
                "deadline": s.deadline,
                "votes": s.votes.count(),
            }
            for s in request_obj.stages.select_related("board").order_by("round", "order")
        ],
        "checks": [
            {
                "name": c.name,
                "dataset": c.dataset.slug if c.dataset else None,
                "status": c.status,
                "explanation": c.explanation,
            }
            for c in request_obj.checks.filter(round=request_obj.round).select_related("dataset")
        ],
    }


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
    submitted_answers = serializers.DictField(allow_null=True)
    datasets = serializers.ListField(child=serializers.DictField())
    stages = serializers.ListField(child=serializers.DictField())
    checks = serializers.ListField(child=serializers.DictField())


class RequestListCreateApi(APIView):
    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(
            choices=RequestState.choices, required=False, allow_blank=True, default=""
        )

    class InputSerializer(AnswersSerializer):
        title = serializers.CharField(max_length=300)

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
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.request_create(actor=request.user, title=data.validated_data["title"])
        rest = {k: v for k, v in data.validated_data.items() if k != "title"}
        if rest:
            services.request_update(actor=request.user, request_id=created.pk, **_split(rest))
        created.refresh_from_db()
        return Response(request_detail_data(created, request.user), status=status.HTTP_201_CREATED)


class RequestDetailApi(APIView):
    @extend_schema(
        parameters=[REF], responses=RequestDetailOutputSerializer, operation_id="requests_retrieve"
    )
    def get(self, request: Request, reference: str) -> Response:
        obj = request_get(user=request.user, reference=reference)
        return Response(request_detail_data(obj, request.user))

    @extend_schema(
        parameters=[REF],
        request=AnswersSerializer,
        responses=RequestDetailOutputSerializer,
        operation_id="requests_update",
    )
    def patch(self, request: Request, reference: str) -> Response:
        """Save answers of a draft as you go: all valid answers are saved, or none."""
        obj = request_get(user=request.user, reference=reference)
        data = AnswersSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.request_update(
            actor=request.user, request_id=obj.pk, **_split(data.validated_data)
        )
        obj.refresh_from_db()
        return Response(request_detail_data(obj, request.user))


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
            call(actor=request.user, request_id=obj.pk, **kwargs)
            obj.refresh_from_db()
            return Response(request_detail_data(obj, request.user))

    CommandApi.__name__ = CommandApi.__qualname__ = (
        "Request" + "".join(p.title() for p in name.split("-")) + "Api"
    )
    return CommandApi


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TeamInviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.CharField(required=False, allow_blank=True, max_length=100)


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
    decision = serializers.ChoiceField(choices=[("granted", "Granted"), ("refused", "Refused")])
    conditions = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)


COMMANDS = {
    "submit": _command("submit", None, services.request_submit),
    "resubmit": _command("resubmit", None, services.request_resubmit),
    "withdraw": _command("withdraw", ReasonSerializer, services.request_withdraw),
    "team": _command("team", TeamInviteSerializer, services.team_member_invite),
    "accept-terms": _command("accept-terms", None, services.terms_accept),
    "declare-conflict": _command("declare-conflict", DeclareSerializer, services.conflict_declare),
    "votes": _command("votes", VoteSerializer, services.vote_cast),
    "comments": _command("comments", CommentSerializer, services.comment_add),
    "close-round": _command("close-round", CloseRoundSerializer, services.round_close),
    "decide": _command("decide", DecideSerializer, services.dataset_decide),
    "amend": _command("amend", ReasonSerializer, services.request_amend),
    "close": _command("close", ReasonSerializer, services.request_close),
}


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
        rounds = {s.round: s.answers for s in obj.submissions.all()}
        wanted = (params.validated_data["from_round"], params.validated_data["to_round"])
        missing = [r for r in wanted if r not in rounds]
        if missing:
            raise InvalidInput("No such round.", errors={"round": [f"No round {missing[0]}."]})
        private = can_see_private(request.user, obj, roles_of(request.user, obj))
        changes = diff(
            redact(rounds[wanted[0]], can_see_private=private),
            redact(rounds[wanted[1]], can_see_private=private),
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

    @extend_schema(responses=OutputSerializer(many=True), operation_id="waiting_for_me")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(waiting_for(request.user), many=True).data)
