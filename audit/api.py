"""The audit API: public head and signed checkpoints; events (JSON and CSV) for auditors."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.exports import csv_filename, csv_lines
from audit.models import ActorType
from audit.selectors import chain_head, checkpoints_published, event_search
from lifes.pagination import Pagination, paginate


class CheckpointOutputSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = serializers.CharField()
    created_at = serializers.DateTimeField()
    kid = serializers.CharField()
    token = serializers.CharField(
        help_text="Compact JWS (typ lifes-checkpoint+jwt) over {seq, hash, iat, iss}, "
        "verifiable with /.well-known/jwks.json."
    )


class AuditCheckpointListApi(APIView):
    """Public: keep a copy, and `manage.py audit_verify --checkpoints FILE` (or anyone with
    the events) can later show whether the hub's chain still passes through them."""

    permission_classes = [permissions.AllowAny]
    pagination_class = Pagination

    class OutputSerializer(CheckpointOutputSerializer):
        pass

    @extend_schema(responses=OutputSerializer(many=True), operation_id="audit_checkpoints_list")
    def get(self, request: Request) -> Response:
        return paginate(request, self, checkpoints_published(), self.OutputSerializer)


class AuditHeadApi(APIView):
    permission_classes = [permissions.AllowAny]

    class OutputSerializer(serializers.Serializer):
        seq = serializers.IntegerField()
        hash = serializers.CharField()
        occurred_at = serializers.DateTimeField(allow_null=True)
        checkpoint = CheckpointOutputSerializer(allow_null=True)

    @extend_schema(responses=OutputSerializer, operation_id="audit_head")
    def get(self, request: Request) -> Response:
        head = dict(chain_head(), checkpoint=checkpoints_published().first())
        return Response(self.OutputSerializer(head).data)


class EventFilterSerializer(serializers.Serializer):
    occurred_from = serializers.DateTimeField(required=False)
    occurred_to = serializers.DateTimeField(required=False)
    actor = serializers.CharField(
        required=False, max_length=255, help_text="Part of the actor's label, or their id."
    )
    actor_type = serializers.ChoiceField(choices=ActorType.choices, required=False)
    action = serializers.CharField(
        required=False, max_length=64, help_text="A prefix: `permit.` finds every permit action."
    )
    object_type = serializers.RegexField(
        r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$", required=False, max_length=64, help_text="app.model"
    )
    object_id = serializers.CharField(required=False, max_length=64)
    seq_from = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    seq_to = serializers.IntegerField(required=False, min_value=1, max_value=2**62)

    def validate(self, attrs):
        errors = {}
        if (
            attrs.get("occurred_from")
            and attrs.get("occurred_to")
            and (attrs["occurred_from"] > attrs["occurred_to"])
        ):
            errors["occurred_to"] = ["The end comes before the start."]
        if attrs.get("seq_from") and attrs.get("seq_to") and attrs["seq_from"] > attrs["seq_to"]:
            errors["seq_to"] = ["The last event comes before the first."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def _filters(request: Request, serializer_class) -> dict:
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


class AuditEventListApi(APIView):
    """Auditors and staff: every event, filtered, newest first."""

    pagination_class = Pagination

    class InputSerializer(EventFilterSerializer):
        pass

    class OutputSerializer(serializers.Serializer):
        seq = serializers.IntegerField()
        occurred_at = serializers.DateTimeField()
        actor_type = serializers.CharField()
        actor_id = serializers.CharField()
        actor_label = serializers.CharField()
        action = serializers.CharField()
        object_type = serializers.CharField()
        object_id = serializers.CharField()
        payload = serializers.JSONField()
        prev_hash = serializers.CharField()
        hash = serializers.CharField()

    @extend_schema(
        parameters=[InputSerializer],
        responses=OutputSerializer(many=True),
        operation_id="audit_events_list",
    )
    def get(self, request: Request) -> Response:
        events = event_search(user=request.user, **_filters(request, self.InputSerializer))
        return paginate(request, self, events, self.OutputSerializer)


class JsonErrorsNegotiation(BaseContentNegotiation):
    """The CSV view answers CSV itself; errors stay JSON whatever the client accepts."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AuditEventCsvApi(APIView):
    """The same filters as the list, all matching events as one streamed CSV, oldest first.
    The columns are what the hash covers, so the chain can be recomputed from the file."""

    content_negotiation_class = JsonErrorsNegotiation

    class InputSerializer(EventFilterSerializer):
        pass

    @extend_schema(
        parameters=[InputSerializer],
        operation_id="audit_events_csv",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="CSV with a header row"
            )
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        events = event_search(user=request.user, **_filters(request, self.InputSerializer))
        response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{csv_filename()}"'
        response["Cache-Control"] = "private, no-store"
        return response
