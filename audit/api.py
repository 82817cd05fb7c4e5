"""The audit API: public signed tree heads and RFC 9162 proofs; events (JSON, CSV) for auditors."""

from __future__ import annotations

import base64

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
from audit.selectors import (
    consistency_proof,
    event_search,
    inclusion_proof,
    tree_head_data,
    tree_head_get,
)
from lifes.pagination import Pagination, paginate


class TreeHeadOutputSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="RFC 9162 root hash, hex")
    timestamp = serializers.IntegerField(help_text="milliseconds since the epoch")
    signed = serializers.CharField(
        help_text="Compact JWS (EdDSA, typ lifes-tree-head+jwt, kid in /.well-known/jwks.json) "
        "whose payload carries the same tree_size, root_hash and timestamp."
    )


class LogEntrySerializer(serializers.Serializer):
    """Where an event stands in the log: its leaf index (null until sequenced) and, once a
    signed tree head covers it, the RFC 9162 inclusion proof against that head."""

    leaf_index = serializers.IntegerField(allow_null=True)
    tree_size = serializers.IntegerField(allow_null=True)
    leaf_hash = serializers.CharField(allow_null=True)
    audit_path = serializers.ListField(child=serializers.CharField(), allow_null=True)
    leaf_data = serializers.CharField(
        required=False, help_text="base64 of the canonical event bytes"
    )
    tree_head = TreeHeadOutputSerializer(allow_null=True)


class AuditTreeHeadApi(APIView):
    """Public: the latest signed tree head, or the one signed at `tree_size`. Keep the heads
    you see: `lifes-node witness` checks each new one extends the last."""

    permission_classes = [permissions.AllowAny]

    class InputSerializer(serializers.Serializer):
        tree_size = serializers.IntegerField(required=False, min_value=1, max_value=2**62)

    class OutputSerializer(TreeHeadOutputSerializer):
        pass

    @extend_schema(
        parameters=[InputSerializer], responses=OutputSerializer, operation_id="audit_tree_head"
    )
    def get(self, request: Request) -> Response:
        query = _filters(request, self.InputSerializer)
        head = tree_head_get(tree_size=query.get("tree_size"))
        return Response(self.OutputSerializer(tree_head_data(head)).data)


class AuditInclusionProofApi(APIView):
    """Public: the RFC 9162 inclusion proof of one event (leaf) in the tree of `tree_size`
    leaves (the latest signed head when not given). `leaf_data`, the event's canonical bytes,
    only for those who may read the event: auditors, staff, and the event's own subject."""

    permission_classes = [permissions.AllowAny]

    class InputSerializer(serializers.Serializer):
        tree_size = serializers.IntegerField(required=False, min_value=1, max_value=2**62)

    class OutputSerializer(serializers.Serializer):
        leaf_index = serializers.IntegerField()
        tree_size = serializers.IntegerField()
        leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || leaf_data), hex")
        audit_path = serializers.ListField(child=serializers.CharField(), help_text="hex hashes")
        leaf_data = serializers.CharField(
            required=False, help_text="base64 of the canonical event bytes (when you may read it)"
        )

    @extend_schema(
        parameters=[InputSerializer],
        responses=OutputSerializer,
        operation_id="audit_inclusion_proof",
    )
    def get(self, request: Request, leaf_index: int) -> Response:
        query = _filters(request, self.InputSerializer)
        proof = inclusion_proof(
            leaf_index=leaf_index, tree_size=query.get("tree_size"), user=request.user
        )
        if "leaf_data" in proof:
            proof["leaf_data"] = base64.b64encode(proof["leaf_data"]).decode("ascii")
        return Response(self.OutputSerializer(proof).data)


class AuditConsistencyProofApi(APIView):
    """Public: the RFC 9162 consistency proof that the tree of `second` leaves extends the
    tree of `first` leaves."""

    permission_classes = [permissions.AllowAny]

    class InputSerializer(serializers.Serializer):
        first = serializers.IntegerField(min_value=1, max_value=2**62)
        second = serializers.IntegerField(min_value=1, max_value=2**62)

    class OutputSerializer(serializers.Serializer):
        first = serializers.IntegerField()
        second = serializers.IntegerField()
        proof = serializers.ListField(child=serializers.CharField(), help_text="hex hashes")

    @extend_schema(
        parameters=[InputSerializer],
        responses=OutputSerializer,
        operation_id="audit_consistency_proof",
    )
    def get(self, request: Request) -> Response:
        query = _filters(request, self.InputSerializer)
        return Response(self.OutputSerializer(consistency_proof(**query)).data)


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
        seq = serializers.IntegerField(allow_null=True, help_text="leaf index + 1")
        occurred_at = serializers.DateTimeField()
        actor_type = serializers.CharField()
        actor_id = serializers.CharField()
        actor_label = serializers.CharField()
        action = serializers.CharField()
        object_type = serializers.CharField()
        object_id = serializers.CharField()
        payload = serializers.JSONField()

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
    The columns are what the leaf hash covers, so each leaf can be recomputed from the file."""

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
