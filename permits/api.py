"""Permits API under /api/v1/: the revocation list, the node API, permits, the register and the
GA4GH passport. One view per operation; errors are the hub's JSON ``{"detail", "code"}``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, renderers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lifes.pagination import Pagination, paginate
from permits import selectors, services
from permits.models import ExecutionReceipt, Permit
from permits.services.nodes import node_of
from permits.visas import passport_visas

NUMBER = OpenApiParameter(
    "number", str, OpenApiParameter.PATH, description="The permit number, e.g. LIFES-P-2026-000001."
)
DATASET = OpenApiParameter(
    "dataset_id", str, OpenApiParameter.PATH, description="The dataset id as the permit names it."
)


class PermitErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


ERRORS = {status_code: PermitErrorSerializer for status_code in (400, 401, 403, 404, 409)}


# --- the revocation list -----------------------------------------------------------------------


class JwtRenderer(renderers.BaseRenderer):
    """``application/jwt``: the compact JWS itself, as lifes_node reads it."""

    media_type = "application/jwt"
    format = "jwt"
    charset = None  # base64url and dots only

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        if isinstance(data, dict) and isinstance(data.get("token"), str):
            return data["token"].encode("ascii")
        return renderers.JSONRenderer().render(data)


class RevocationListApi(APIView):
    """The signed revocation list (CONTRACTS.md): a compact JWS, typ ``lifes-revocations+jwt``,
    claims ``iss``, ``iat``, ``exp``, ``revoked: [{jti, revoked_at, reason}]``. Served as
    ``application/jwt``, or as ``{"token": ...}`` to a client that asks for JSON only."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    renderer_classes = [JwtRenderer, renderers.JSONRenderer]

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="The compact JWS.")

    @extend_schema(
        operation_id="permits_revocations",
        responses={
            (200, "application/jwt"): OpenApiResponse(
                response={"type": "string"}, description="The compact JWS."
            ),
            (200, "application/json"): OutputSerializer,
        },
    )
    def get(self, request: Request) -> Response:
        row = services.revocation_list_current()
        response = Response({"token": row.token})
        # Short caching: a node sees a new list within a minute of a revocation.
        response["Cache-Control"] = "public, max-age=60"
        return response


# --- the node API ------------------------------------------------------------------------------


class NodePermitListApi(APIView):
    """The permits addressed to the calling node that it may use now."""

    class OutputSerializer(serializers.Serializer):
        class DatasetSerializer(serializers.Serializer):
            id = serializers.CharField(source="dataset.slug")
            cohort_version = serializers.IntegerField()

        number = serializers.CharField()
        jti = serializers.UUIDField()
        token = serializers.CharField()
        valid_from = serializers.DateTimeField()
        exp = serializers.DateTimeField(source="valid_until")
        datasets = serializers.SerializerMethodField()

        def get_datasets(self, permit: Permit) -> list[dict[str, Any]]:
            node = self.context["node"]
            return [
                {"id": e.dataset.slug, "cohort_version": e.cohort_version}
                for e in permit.permit_datasets.all()
                if e.node_identifier == node.identifier
            ]

    @extend_schema(
        operation_id="node_permits_list", responses={200: OutputSerializer(many=True), **ERRORS}
    )
    def get(self, request: Request) -> Response:
        node = node_of(request.user)
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.node_permits(node), request, view=self)
        return paginator.get_paginated_response(
            self.OutputSerializer(page, many=True, context={"node": node}).data
        )


def _etag(digest: str) -> str:
    return f'"{digest}"'


def _matches(if_none_match: str, etag: str) -> bool:
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


class NodeCohortApi(APIView):
    """The current cohort of one dataset of a permit: the participants whose consent covers the
    permit's purpose now. ``ETag`` is the cohort digest; ``If-None-Match`` answers 304."""

    class OutputSerializer(serializers.Serializer):
        permit = serializers.CharField()
        dataset = serializers.CharField()
        version = serializers.IntegerField()
        digest = serializers.CharField()
        count = serializers.IntegerField()
        participants = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        operation_id="node_cohort",
        parameters=[NUMBER, DATASET],
        responses={200: OutputSerializer, 304: None, **ERRORS},
    )
    def get(self, request: Request, number: str, dataset_id: str) -> Response:
        node = node_of(request.user)
        permit, cohort, ids = selectors.node_cohort(node=node, number=number, dataset_id=dataset_id)
        etag = _etag(cohort.digest)
        if _matches(request.headers.get("If-None-Match", ""), etag):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = Response(
                {
                    "permit": permit.number,
                    "dataset": dataset_id,
                    "version": cohort.version,
                    "digest": cohort.digest,
                    "count": cohort.count,
                    "participants": ids,
                }
            )
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response


class NodeKeyApi(APIView):
    """A node registers the Ed25519 public JWK its receipts are signed with (the one
    ``lifes-node keygen`` prints). Replacing a registered key is for hub staff."""

    class InputSerializer(serializers.Serializer):
        jwk = serializers.DictField(help_text="The node's public JWK: kty OKP, crv Ed25519, x.")

    class OutputSerializer(serializers.Serializer):
        node = serializers.CharField(source="identifier")
        jwk = serializers.DictField(source="public_key_jwk")

    @extend_schema(
        operation_id="node_key_register",
        request=InputSerializer,
        responses={200: OutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        node = services.node_key_register(actor=request.user, jwk=data.validated_data["jwk"])
        return Response(self.OutputSerializer(node).data)


class NodeReceiptApi(APIView):
    """A node posts the signed receipt of a run (``lifes_node/README.md``, "Receipts"). 201 when
    stored; 409 when the same receipt (``jti``) is already stored; other 4xx name the problem."""

    class InputSerializer(serializers.Serializer):
        receipt = serializers.CharField(
            help_text="The compact JWS signed by the node's key.", trim_whitespace=True
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        permit = serializers.CharField(source="permit.number")
        jti = serializers.CharField()
        status = serializers.CharField()
        received_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="node_receipt_record",
        request=InputSerializer,
        responses={201: OutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        node_of(request.user)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = services.receipt_record(actor=request.user, token=data.validated_data["receipt"])
        return Response(self.OutputSerializer(receipt).data, status=status.HTTP_201_CREATED)


# --- permits (people) --------------------------------------------------------------------------


class PermitDatasetSerializer(serializers.Serializer):
    id = serializers.CharField(source="dataset.slug")
    title = serializers.CharField(source="dataset.title")
    node = serializers.CharField(source="node_identifier")
    cohort_version = serializers.IntegerField()
    cohort_digest = serializers.CharField()
    cohort_count = serializers.IntegerField()
    owner_conditions = serializers.CharField()


class PermitAlgorithmSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    digest = serializers.CharField()


class PermitSerializer(serializers.Serializer):
    number = serializers.CharField()
    jti = serializers.UUIDField()
    request = serializers.CharField(source="request.reference")
    status = serializers.CharField(source="effective_status")
    status_reason = serializers.CharField()
    holder_organisation = serializers.CharField(source="holder_organisation.name")
    principal_investigator = serializers.CharField()
    purpose = serializers.SerializerMethodField()
    datasets = PermitDatasetSerializer(source="permit_datasets", many=True)
    algorithms = PermitAlgorithmSerializer(source="permit_algorithms", many=True)
    outputs = serializers.SerializerMethodField()
    conditions = serializers.DictField()
    issued_at = serializers.DateTimeField()
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()
    supersedes = serializers.CharField(source="supersedes.number", allow_null=True, default=None)
    kid = serializers.CharField()
    token_sha256 = serializers.CharField()
    token = serializers.CharField()

    def get_purpose(self, permit: Permit) -> dict[str, Any]:
        return {
            "codes": permit.purpose_codes,
            "diseases": permit.purpose_diseases,
            "commercial": permit.is_commercial,
        }

    def get_outputs(self, permit: Permit) -> dict[str, Any]:
        return {"aggregate_only": permit.is_aggregate_only, "min_cell_count": permit.min_cell_count}


class PermitListApi(APIView):
    """The permits the caller may see (those of requests they see)."""

    @extend_schema(operation_id="permits_list", responses={200: PermitSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return paginate(
            request,
            self,
            selectors.permits_visible_to(request.user).order_by("-issued_at", "-pk"),
            PermitSerializer,
        )


class PermitDetailApi(APIView):
    @extend_schema(
        operation_id="permits_retrieve",
        parameters=[NUMBER],
        responses={200: PermitSerializer, 404: PermitErrorSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        return Response(
            PermitSerializer(selectors.permit_get(user=request.user, number=number)).data
        )


class PermitIssueApi(APIView):
    """Issue the permit of an approved request (its data owners; the hub does it by itself on
    approval, so this is for a permit that could not be issued then)."""

    class InputSerializer(serializers.Serializer):
        request = serializers.CharField(help_text="The request reference.")

    @extend_schema(
        operation_id="permits_issue",
        request=InputSerializer,
        responses={201: PermitSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        from requests_app.selectors import request_get

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        access_request = request_get(user=request.user, reference=data.validated_data["request"])
        permit = services.permit_issue(actor=request.user, request_id=access_request.pk)
        permit = selectors.permit_get(user=request.user, number=permit.number)
        return Response(PermitSerializer(permit).data, status=status.HTTP_201_CREATED)


class _PermitCommandApi(APIView):
    service: Any = None

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=2000, help_text="Why; required.")

    def post(self, request: Request, number: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        type(self).service(actor=request.user, number=number, reason=data.validated_data["reason"])
        return Response(
            PermitSerializer(selectors.permit_get(user=request.user, number=number)).data
        )


class PermitSuspendApi(_PermitCommandApi):
    """Suspend: every run stops (the permit goes onto the revocation list) until resumed."""

    service = services.permit_suspend

    @extend_schema(
        operation_id="permits_suspend",
        parameters=[NUMBER],
        request=_PermitCommandApi.InputSerializer,
        responses={200: PermitSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return super().post(request, number)


class PermitResumeApi(_PermitCommandApi):
    service = services.permit_resume

    @extend_schema(
        operation_id="permits_resume",
        parameters=[NUMBER],
        request=_PermitCommandApi.InputSerializer,
        responses={200: PermitSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return super().post(request, number)


class PermitRevokeApi(_PermitCommandApi):
    """Revoke: the permit ends everywhere, and the holder is barred from its datasets."""

    service = services.permit_revoke

    @extend_schema(
        operation_id="permits_revoke",
        parameters=[NUMBER],
        request=_PermitCommandApi.InputSerializer,
        responses={200: PermitSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        return super().post(request, number)


class PermitReceiptListApi(APIView):
    """The execution receipts of a permit (who may see the permit may see them)."""

    class OutputSerializer(serializers.ModelSerializer):
        node = serializers.CharField(source="node.identifier")

        class Meta:
            model = ExecutionReceipt
            fields = [
                "jti",
                "node",
                "dataset_identifier",
                "algorithm_digest",
                "started_at",
                "ended_at",
                "cohort_version",
                "cohort_digest",
                "cohort_size",
                "output_digest",
                "is_disclosure_passed",
                "disclosure",
                "status",
                "reason",
                "received_at",
            ]

    @extend_schema(
        operation_id="permits_receipts",
        parameters=[NUMBER],
        responses={200: OutputSerializer(many=True), 404: PermitErrorSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        permit = selectors.permit_get(user=request.user, number=number)
        return paginate(request, self, selectors.receipts_of([permit]), self.OutputSerializer)


# --- the public register and GA4GH -------------------------------------------------------------


class RegisterApi(APIView):
    """The public register of issued permits (EHDS Art. 58): no personal data, only the holder
    organisation, datasets, purpose, validity and status."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, max_length=200, default="")

    class OutputSerializer(serializers.Serializer):
        class DatasetSerializer(serializers.Serializer):
            id = serializers.CharField(source="dataset.slug")
            title = serializers.CharField(source="dataset.title")
            persistent_identifier = serializers.CharField(source="dataset.persistent_identifier")

        number = serializers.CharField()
        status = serializers.CharField(source="effective_status")
        issued_at = serializers.DateTimeField()
        valid_from = serializers.DateTimeField()
        valid_until = serializers.DateTimeField()
        holder_organisation = serializers.CharField(source="holder_organisation.name")
        holder_organisation_ror = serializers.CharField(source="holder_organisation.ror_id")
        datasets = DatasetSerializer(source="permit_datasets", many=True)
        purpose = serializers.SerializerMethodField()

        def get_purpose(self, permit: Permit) -> dict[str, Any]:
            return {
                "codes": permit.purpose_codes,
                "diseases": permit.purpose_diseases,
                "commercial": permit.is_commercial,
            }

    @extend_schema(
        operation_id="register_list",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginate(
            request,
            self,
            selectors.register_list(query=filters.validated_data["q"]),
            self.OutputSerializer,
        )


class PassportApi(APIView):
    """The caller's GA4GH Passport claim: one ``ControlledAccessGrants`` visa (ES256, with
    ``jku``) per active permit and dataset."""

    class OutputSerializer(serializers.Serializer):
        ga4gh_passport_v1 = serializers.ListField(child=serializers.CharField())

    @extend_schema(operation_id="ga4gh_passport", responses={200: OutputSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        return Response({"ga4gh_passport_v1": passport_visas(request.user)})
