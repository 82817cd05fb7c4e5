"""Permits API under /api/v1/: the revocation list, the node API, permits, the register and the
GA4GH passport. One view per operation; errors are the hub's JSON ``{"detail", "code"}``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import (
    authentication,
    exceptions,
    parsers,
    permissions,
    renderers,
    serializers,
    status,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.api import LogEntrySerializer
from catalogue.api import JsonLdRenderer
from lifes.conditional import is_fresh
from lifes.errors import NotFound
from lifes.files import private_file_response
from lifes.pagination import Pagination, paginate
from permits import register, selectors, services, workflow
from permits.errors import Code
from permits.models import ISSUE_EVENT, ExecutionReceipt, Permit, RunOutput
from permits.odrl import permit_agreement
from permits.services import passport
from permits.services.nodes import MAX_RECEIPT_BYTES, node_of
from permits.services.run_outputs import output_too_large
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
            304: None,
        },
    )
    def get(self, request: Request) -> Response:
        row = services.revocation_list_current()
        etag = selectors.revocations_etag(row.token)
        if is_fresh(request.headers.get("If-None-Match"), etag):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        else:
            response = Response({"token": row.token})
        response["ETag"] = etag
        # Revalidated on every use: a 304 costs one small query, and a node (or a cache in
        # front of the hub) never keeps a list that misses a revocation.
        response["Cache-Control"] = "public, no-cache"
        response["Vary"] = "Accept"
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
        log = serializers.SerializerMethodField(
            help_text="Inclusion proof of the permit's issue event and the signed tree head "
            "(`lifes-node verify --require-logged --log-proof`)."
        )

        @extend_schema_field(LogEntrySerializer(allow_null=True))
        def get_log(self, permit: Permit) -> dict[str, Any] | None:
            entries = self.context.get("log_entries")
            if entries is not None:  # loaded for the whole page (permits.selectors)
                return entries.get(permit.pk)
            return selectors.log_entry_of(permit, ISSUE_EVENT)

        def get_datasets(self, permit: Permit) -> list[dict[str, Any]]:
            node = self.context["node"]
            return [
                {"id": e.dataset.slug, "cohort_version": e.cohort_version}
                for e in permit.permit_datasets.all()
                if e.node_identifier == node.identifier
            ]

    @extend_schema(
        operation_id="node_permits_list",
        responses={200: OutputSerializer(many=True), 304: None, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        node = node_of(request.user)
        paginator = Pagination()
        # The tag is computed without building the page (selectors.node_permits_etag): a poll
        # that finds nothing new is answered 304 before any token, proof or page is built.
        etag = selectors.node_permits_etag(
            node,
            request.META.get("QUERY_STRING", ""),
            page=request.query_params.get(paginator.page_query_param, 1),
            per_page=paginator.get_page_size(request),
        )
        if etag is not None and is_fresh(request.headers.get("If-None-Match"), etag):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
        else:
            page = paginator.paginate_queryset(selectors.node_permits(node), request, view=self)
            entries = selectors.log_entries_of(page, ISSUE_EVENT)
            response = paginator.get_paginated_response(
                self.OutputSerializer(
                    page, many=True, context={"node": node, "log_entries": entries}
                ).data
            )
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response


def _cohort_headers(response: Response, etag: str) -> Response:
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


class NodeCohortApi(APIView):
    """The current cohort of one dataset of a permit: the participants whose consent covers the
    permit's purpose now. ``ETag``: the cohort's digest and version (``cohort_etag``);
    ``If-None-Match`` answers 304, checked first against the stored cohort without reading it."""

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
        if_none_match = request.headers.get("If-None-Match", "")
        if if_none_match:
            # The cheap validator first: a node that holds the current cohort gets 304 without
            # the hub reading the ids (``node_cohort_etag``; None sends it the long way).
            stored = selectors.node_cohort_etag(node=node, number=number, dataset_id=dataset_id)
            if stored is not None and is_fresh(if_none_match, stored):
                return _cohort_headers(Response(status=status.HTTP_304_NOT_MODIFIED), stored)
        permit, cohort, ids = selectors.node_cohort(node=node, number=number, dataset_id=dataset_id)
        etag = selectors.cohort_etag(cohort.digest, cohort.version)
        if is_fresh(if_none_match, etag):
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
        return _cohort_headers(response, etag)


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
        log = serializers.SerializerMethodField(
            help_text="The receipt's place in the audit log; the proof once sequenced and signed."
        )

        @extend_schema_field(LogEntrySerializer(allow_null=True))
        def get_log(self, receipt: ExecutionReceipt) -> dict[str, Any] | None:
            return selectors.log_entry_of(receipt, "receipt.record")

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
    purpose_in_words = serializers.SerializerMethodField()
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

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_purpose_in_words(self, permit: Permit) -> list[str]:
        """The purpose as people read it, in the asker's language: the same list of labels as
        the register's ``purpose_in_words`` (one field name, one shape across the API)."""
        return register.purpose_in_words(
            list(permit.purpose_codes),
            list(permit.purpose_diseases),
            is_commercial=permit.is_commercial,
        )

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


class PermitOdrlApi(APIView):
    """The permit as an ODRL 2.2 Agreement (JSON-LD). Public, like its register entry: the
    assignee is the holder organisation, never a person."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    renderer_classes = [JsonLdRenderer, renderers.JSONRenderer]

    @extend_schema(
        operation_id="permits_odrl",
        parameters=[NUMBER],
        responses={
            (200, "application/ld+json"): OpenApiResponse(
                response={"type": "object"}, description="The ODRL 2.2 Agreement."
            ),
            404: PermitErrorSerializer,
        },
    )
    def get(self, request: Request, number: str) -> Response:
        return Response(permit_agreement(selectors.register_entry_get(number=number)))


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


def _permit_command(transition: workflow.PermitTransition) -> type[APIView]:
    """POST /api/v1/permits/{number}/<action>, from a row of the permit's transition table."""

    class CommandApi(_PermitCommandApi):
        service = staticmethod(lambda **kwargs: workflow.resolve(transition.service)(**kwargs))

        @extend_schema(
            operation_id=f"permits_{transition.action}",
            parameters=[NUMBER],
            request=_PermitCommandApi.InputSerializer,
            responses={200: PermitSerializer, **ERRORS},
            description=str(transition.label),
        )
        def post(self, request: Request, number: str) -> Response:
            return super().post(request, number)

    CommandApi.__name__ = CommandApi.__qualname__ = f"Permit{transition.action.title()}Api"
    return CommandApi


def commands() -> dict[str, type[APIView]]:
    return {t.action: _permit_command(t) for t in workflow.commands()}


class PermitReceiptListApi(APIView):
    """The execution receipts of a permit (who may see the permit may see them)."""

    class OutputSerializer(serializers.ModelSerializer):
        node = serializers.CharField(source="node.identifier")
        log = serializers.SerializerMethodField(
            help_text="The receipt's place in the audit log; the proof once sequenced and signed."
        )

        @extend_schema_field(LogEntrySerializer(allow_null=True))
        def get_log(self, receipt: ExecutionReceipt) -> dict[str, Any] | None:
            entries = self.context.get("log_entries")
            if entries is not None:  # loaded for the whole page (permits.selectors)
                return entries.get(receipt.pk)
            return selectors.log_entry_of(receipt, "receipt.record")

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
                "log",
            ]

    @extend_schema(
        operation_id="permits_receipts",
        parameters=[NUMBER],
        responses={200: OutputSerializer(many=True), 404: PermitErrorSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        permit = selectors.permit_get(user=request.user, number=number)
        return paginate(
            request,
            self,
            selectors.receipts_of([permit]),
            self.OutputSerializer,
            context=lambda rows: {"log_entries": selectors.log_entries_of(rows, "receipt.record")},
        )


# --- the public register and GA4GH -------------------------------------------------------------


class RegisterApi(APIView):
    """The public register (EHDS Art. 57/58): every permit and every refusal, a set number of
    working days after the decision, newest first, with keyset pagination (follow ``next``).
    No personal data: only the holder organisation, the project's title and lay summary,
    datasets, purpose, validity, status, published results, and a refusal's justification."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, max_length=200, default="", allow_blank=True)
        kind = serializers.ChoiceField(
            choices=["", *register.KINDS], required=False, default="", allow_blank=True
        )
        status = serializers.ChoiceField(
            choices=["", *(value for value, _label in register.register_statuses())],
            required=False,
            default="",
            allow_blank=True,
        )
        cursor = serializers.CharField(required=False, max_length=200, default="")
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)

    class OutputSerializer(serializers.Serializer):
        class DatasetSerializer(serializers.Serializer):
            id = serializers.CharField()
            title = serializers.CharField()
            persistent_identifier = serializers.CharField()

        class ResultSerializer(serializers.Serializer):
            title = serializers.CharField()
            doi = serializers.CharField()
            url = serializers.CharField()
            link = serializers.CharField()
            published_on = serializers.DateField()

        kind = serializers.CharField()
        number = serializers.CharField(allow_blank=True, help_text="Permits only.")
        reference = serializers.CharField(allow_blank=True, help_text="Refusals only.")
        title = serializers.CharField()
        lay_summary = serializers.CharField(allow_blank=True)
        status = serializers.CharField()
        decided_at = serializers.DateTimeField()
        issued_at = serializers.DateTimeField(allow_null=True, help_text="Permits only.")
        valid_from = serializers.DateTimeField(allow_null=True)
        valid_until = serializers.DateTimeField(allow_null=True)
        holder_organisation = serializers.CharField()
        holder_organisation_ror = serializers.CharField()
        datasets = DatasetSerializer(many=True)
        purpose = serializers.SerializerMethodField()
        purpose_in_words = serializers.ListField(
            source="purpose_words", child=serializers.CharField()
        )
        justification = serializers.CharField(allow_blank=True, help_text="Refusals only.")
        results = ResultSerializer(many=True)

        @extend_schema_field(serializers.DictField())
        def get_purpose(self, entry: register.RegisterEntry) -> dict[str, Any]:
            return {
                "codes": entry.purpose_codes,
                "diseases": entry.purpose_diseases,
                "commercial": entry.is_commercial,
            }

    class PageSerializer(serializers.Serializer):
        next = serializers.CharField(allow_null=True)
        previous = serializers.CharField(allow_null=True)
        results = serializers.ListField()

    @extend_schema(
        operation_id="register_list",
        parameters=[FilterSerializer],
        responses={200: PageSerializer, 400: PermitErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        page = register.register_page(
            query=data["q"],
            kind=data["kind"],
            status=data["status"],
            cursor=data["cursor"],
            size=data.get("page_size"),
        )
        next_url = None
        if page.next_cursor:
            params = request.query_params.copy()
            params["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response(
            {
                "next": next_url,
                "previous": None,
                "results": self.OutputSerializer(page.entries, many=True).data,
            }
        )


class PassportTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <passport-scoped token>``, and nothing else: API tokens,
    sessions and any other JWT are refused (GA4GH AAI: the Passport is released only to a
    token that carries the ``ga4gh_passport_v1`` scope)."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != b"bearer" or len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send 'Authorization: Bearer <token>' with a token from /api/v1/ga4gh/token.",
                code=Code.INVALID_TOKEN,
            )
        try:
            user = passport.passport_for_token(header[1].decode("ascii"))
        except (UnicodeDecodeError, passport.PassportTokenInvalid) as exc:
            raise exceptions.AuthenticationFailed(
                "Not a passport-scoped token of this hub; exchange an API token at "
                "/api/v1/ga4gh/token with scope=ga4gh_passport_v1.",
                code=Code.INVALID_TOKEN,
            ) from exc
        return (user, None)

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="lifes", scope="{passport.PASSPORT_SCOPE}"'


class PassportTokenApi(APIView):
    """RFC 8693 token exchange: an API token (``subject_token``) for a short-lived access token
    scoped ``ga4gh_passport_v1``. Form-encoded, as OAuth 2.0 requires; errors carry the OAuth
    ``error`` value as ``code`` (and as ``error``, for OAuth clients)."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [parsers.FormParser]

    class InputSerializer(serializers.Serializer):
        grant_type = serializers.CharField()
        subject_token = serializers.CharField()
        subject_token_type = serializers.CharField()
        scope = serializers.CharField()

    class OutputSerializer(serializers.Serializer):
        access_token = serializers.CharField()
        issued_token_type = serializers.CharField()
        token_type = serializers.CharField()
        expires_in = serializers.IntegerField()
        scope = serializers.CharField()

    @extend_schema(
        operation_id="ga4gh_token_exchange",
        request={"application/x-www-form-urlencoded": InputSerializer},
        responses={200: OutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return _oauth_error("invalid_request", "Missing or empty fields.", data.errors)
        try:
            exchanged = passport.passport_token_exchange(**data.validated_data)
        except passport.TokenExchangeError as exc:
            return _oauth_error(exc.code, exc.message)
        response = Response(
            {
                "access_token": exchanged.access_token,
                "issued_token_type": passport.ACCESS_TOKEN_TYPE,
                "token_type": "Bearer",
                "expires_in": exchanged.expires_in,
                "scope": exchanged.scope,
            }
        )
        response["Cache-Control"] = "no-store"  # RFC 6749 section 5.1
        return response


def _oauth_error(code: str, message: str, errors: Any = None) -> Response:
    body: dict[str, Any] = {"detail": message, "code": code, "error": code}
    body["error_description"] = message
    if errors:
        body["errors"] = errors
    response = Response(body, status=status.HTTP_400_BAD_REQUEST)
    response["Cache-Control"] = "no-store"
    return response


class PassportApi(APIView):
    """The caller's GA4GH Passport (AAI 1.2). With ``Accept: application/jwt``: the Passport JWT
    (``typ`` ``vnd.ga4gh.passport+jwt``, ES256, key in ``/.well-known/visa-jwks.json``) whose
    ``ga4gh_passport_v1`` holds the visas; otherwise ``{"ga4gh_passport_v1": [visas]}``. Only a
    token from ``POST /api/v1/ga4gh/token`` is accepted."""

    authentication_classes = [PassportTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [renderers.JSONRenderer, JwtRenderer]

    class OutputSerializer(serializers.Serializer):
        ga4gh_passport_v1 = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        operation_id="ga4gh_passport",
        responses={
            (200, "application/jwt"): OpenApiResponse(
                response={"type": "string"}, description="The signed Passport JWT."
            ),
            (200, "application/json"): OutputSerializer,
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        if request.accepted_renderer.format == JwtRenderer.format:
            response = Response({"token": passport.passport_jwt(request.user)})
        else:
            response = Response({"ga4gh_passport_v1": passport_visas(request.user)})
        response["Cache-Control"] = "no-store"
        return response

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON, whatever was asked for (a JWT client still gets a readable refusal).
        response = super().handle_exception(exc)
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return response


# --- results (EHDS Art. 61) ----------------------------------------------------------------------


class PermitResultSerializer(serializers.Serializer):
    title = serializers.CharField()
    doi = serializers.CharField()
    url = serializers.CharField()
    link = serializers.CharField()
    published_on = serializers.DateField()
    recorded_at = serializers.DateTimeField()


class PermitResultsApi(APIView):
    """A permit's published results and when they are due (whoever sees the permit); the
    holder's side records a publication (a DOI or a URL, a title, the date)."""

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=500)
        doi = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
        url = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
        published_on = serializers.DateField()

    class OutputSerializer(serializers.Serializer):
        due_on = serializers.DateField()
        is_overdue = serializers.BooleanField()
        results = PermitResultSerializer(source="publications", many=True)

    @extend_schema(
        operation_id="permits_results",
        parameters=[NUMBER],
        responses={200: OutputSerializer, 404: PermitErrorSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        permit = selectors.permit_get(user=request.user, number=number)
        roles = workflow.roles_on_permit(request.user, permit)
        results = selectors.permit_results(user=request.user, permit=permit, roles=roles)
        return Response(self.OutputSerializer(results).data)

    @extend_schema(
        operation_id="permits_result_record",
        parameters=[NUMBER],
        request=InputSerializer,
        responses={201: PermitResultSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        selectors.permit_get(user=request.user, number=number)  # 404 alike for not yours
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.result_record(actor=request.user, number=number, **data.validated_data)
        return Response(PermitResultSerializer(result).data, status=status.HTTP_201_CREATED)


class PermitFindingApi(APIView):
    """The holder's side reports a significant finding to the access body (Art. 61(3))."""

    class InputSerializer(serializers.Serializer):
        statement = serializers.CharField(max_length=5000)

    class OutputSerializer(serializers.Serializer):
        statement = serializers.CharField()
        reported_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="permits_finding_report",
        parameters=[NUMBER],
        request=InputSerializer,
        responses={201: OutputSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        selectors.permit_get(user=request.user, number=number)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        finding = services.finding_report(
            actor=request.user, number=number, statement=data.validated_data["statement"]
        )
        return Response(self.OutputSerializer(finding).data, status=status.HTTP_201_CREATED)


# --- run results -------------------------------------------------------------------------------


class NodeRunOutputApi(APIView):
    """A node uploads the disclosure-checked aggregate output of a run with the run's signed
    receipt (multipart: ``receipt``, the compact JWS, and ``output``, the file). The file's
    SHA-256 must be the receipt's ``output_digest``; at most ``RUN_OUTPUT_MAX_BYTES`` (413), of
    a type in ``RUN_OUTPUT_CONTENT_TYPES`` (415). The receipt is stored too if the hub has not
    seen it yet. 201 when stored; 409 when this run's output is already stored."""

    parser_classes = [parsers.MultiPartParser]

    class InputSerializer(serializers.Serializer):
        receipt = serializers.CharField(help_text="The run's compact JWS receipt.")
        output = serializers.FileField(help_text="The released output, as the node wrote it.")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        permit = serializers.CharField(source="receipt.permit.number")
        receipt = serializers.CharField(source="receipt.jti")
        digest = serializers.CharField()
        size = serializers.IntegerField()
        content_type = serializers.CharField()
        uploaded_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="node_run_output_upload",
        request={"multipart/form-data": InputSerializer},
        responses={
            201: OutputSerializer,
            413: PermitErrorSerializer,
            415: PermitErrorSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        node_of(request.user)
        # An oversized upload is refused before its body is read (multipart parsing would
        # spool it to disk first); the service checks the file's own size again.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.RUN_OUTPUT_MAX_BYTES + MAX_RECEIPT_BYTES + 16 * 1024:
            raise output_too_large()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["output"]
        if upload.size > settings.RUN_OUTPUT_MAX_BYTES:
            raise output_too_large()
        output = services.run_output_upload(
            actor=request.user,
            token=data.validated_data["receipt"],
            data=upload.read(),
            content_type=upload.content_type,
        )
        return Response(self.OutputSerializer(output).data, status=status.HTTP_201_CREATED)


class RunOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    receipt = serializers.CharField(source="receipt.jti")
    node = serializers.CharField(source="receipt.node.identifier")
    dataset = serializers.CharField(source="receipt.dataset_identifier")
    ended_at = serializers.DateTimeField(source="receipt.ended_at")
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    digest = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    download = serializers.SerializerMethodField()

    def get_download(self, output: RunOutput) -> str:
        return reverse(
            "permits_api:run_output_download",
            args=[output.receipt.permit.number, output.pk],
        )


class PermitRunOutputListApi(APIView):
    """The run results of a permit: for the permit holder's team only (404 for everyone else,
    as for a permit one may not see); ``requests_app.visibility`` says why."""

    @extend_schema(
        operation_id="permits_run_outputs",
        parameters=[NUMBER],
        responses={200: RunOutputSerializer(many=True), 404: PermitErrorSerializer},
    )
    def get(self, request: Request, number: str) -> Response:
        permit = selectors.permit_get(user=request.user, number=number)
        outputs = selectors.run_outputs_of(user=request.user, permit=permit)
        if outputs is None:
            raise NotFound(_("No such permit."))
        return paginate(request, self, outputs, RunOutputSerializer)


class PermitRunOutputDownloadApi(APIView):
    """One run result's file, for the permit holder's team (404 for everyone else)."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # A file, whatever the client accepts; errors still come back as JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="permits_run_output_download",
        parameters=[NUMBER, OpenApiParameter("output_id", int, OpenApiParameter.PATH)],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file."),
            404: PermitErrorSerializer,
        },
    )
    def get(self, request: Request, number: str, output_id: int) -> HttpResponse:
        output = selectors.run_output_get(user=request.user, number=number, output_id=output_id)
        return private_file_response(
            request, output.file, filename=output.original_name, content_type=output.content_type
        )
