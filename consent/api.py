"""Consent API under ``/api/v1/consent/``: the public matcher and the stewards' consent records.

The matcher endpoints validate their body with the matcher's own parser, so a 400 names the
exact field path (``purpose.codes``, ``conditions.values.DUO:0000025``) as CONTRACTS.md asks;
their serializers document the shape for the OpenAPI schema.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from catalogue.selectors import dataset_get
from consent import duo, services
from consent.errors import Code
from consent.matcher import (
    MatcherInputError,
    MatchResult,
    dataset_conditions,
    match,
    parse_purpose,
    parse_request,
)
from consent.reasons_i18n import reasons_text
from consent.selectors import cohort_for, cohort_version, consent_dataset_get, participant_get
from lifes.api import ErrorSerializer
from lifes.errors import InvalidInput
from lifes.parsers import read_limited

SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The dataset id.")
PSEUDONYM = OpenApiParameter(
    "pseudonym", str, OpenApiParameter.PATH, description="The participant's pseudonymous id."
)


def _invalid(exc: MatcherInputError) -> InvalidInput:
    return InvalidInput(_("Invalid input."), errors=exc.errors, code=Code.INVALID)


class PurposeSerializer(serializers.Serializer):
    codes = serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            f"At most one primary purpose (GRU {duo.GRU}, HMB {duo.HMB}, DS {duo.DS}, POA "
            f"{duo.POA}) plus research types ({duo.MDS}–40)."
        ),
    )
    diseases = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="MONDO CURIEs; required with DS."
    )
    commercial = serializers.BooleanField(required=False, allow_null=True)
    for_profit = serializers.BooleanField(required=False, allow_null=True)


class ConditionsSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField())
    diseases = serializers.ListField(child=serializers.CharField(), required=False)
    values = serializers.DictField(
        required=False,
        help_text=("Modifier values: GS region, TS months, MOR date, US/IS/PS lists."),
    )


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(compatible|incompatible|needs_review)$",
        "description": "compatible, incompatible or needs_review",
    }
)
class MatchDecisionField(serializers.CharField):
    """The matcher's decision, documented by a pattern: a shared enum component named
    ``DecisionEnum`` would collide with other apps' fields called ``decision``."""


class MatchResultSerializer(serializers.Serializer):
    decision = MatchDecisionField()
    reasons = serializers.ListField(child=serializers.CharField())
    duties = serializers.ListField(child=serializers.CharField())
    # After the contract's fields, and only when asked for: ``reasons`` stay the contract's
    # English sentences.
    localised_reasons = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="With ?localised=1: the same reasons in the request's language "
        "(Accept-Language or the hub's language cookie).",
    )


LOCALISED = OpenApiParameter(
    "localised",
    bool,
    OpenApiParameter.QUERY,
    required=False,
    description="Add localised_reasons: the reasons in the request's language.",
)


def _result_body(request: Request, result: MatchResult) -> dict[str, Any]:
    body = result.to_dict()
    if request.query_params.get("localised", "").lower() in ("1", "true", "yes"):
        body["localised_reasons"] = reasons_text(result.reasons)
    return body


class MatchApi(APIView):
    """The data-use matcher of CONTRACTS.md. Public: it reads no private data.

    The request wizard calls it to show compatibility live; ``DatasetMatchApi`` does the same
    with a dataset's stored conditions.
    """

    permission_classes = [permissions.AllowAny]
    throttle_classes = [AnonRateThrottle]

    class InputSerializer(serializers.Serializer):
        purpose = PurposeSerializer()
        conditions = ConditionsSerializer()

    class OutputSerializer(MatchResultSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        parameters=[LOCALISED],
        operation_id="consent_match",
        responses={200: OutputSerializer, 400: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        try:
            purpose, conditions = parse_request(request.data)
        except MatcherInputError as exc:
            raise _invalid(exc) from exc
        return Response(
            self.OutputSerializer(_result_body(request, match(purpose, conditions))).data
        )


class DatasetMatchApi(APIView):
    """The matcher against a catalogue dataset's stored conditions (for the request wizard)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [AnonRateThrottle]

    class InputSerializer(serializers.Serializer):
        purpose = PurposeSerializer()

    class OutputSerializer(MatchResultSerializer):
        pass

    @extend_schema(
        request=InputSerializer,
        parameters=[SLUG, LOCALISED],
        operation_id="consent_dataset_match",
        responses={200: OutputSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        dataset = dataset_get(user=request.user, slug=slug)
        data = request.data
        errors: dict[str, list[str]] = {}
        if not isinstance(data, dict):
            raise InvalidInput(
                _("Invalid input."),
                errors={"non_field_errors": [_("the request body must be a JSON object")]},
                code=Code.INVALID,
            )
        for key in data:
            if key != "purpose":
                errors[key] = [_("unknown field; expected purpose")]
        if "purpose" not in data:
            errors["purpose"] = [_("this field is required")]
        if errors:
            raise InvalidInput(_("Invalid input."), errors=errors, code=Code.INVALID)
        try:
            purpose = parse_purpose(data["purpose"])
        except MatcherInputError as exc:
            raise _invalid(exc) from exc
        conditions = dataset_conditions(dataset)
        try:
            result = match(purpose, conditions)
        except MatcherInputError as exc:
            raise InvalidInput(
                _("The dataset's stored conditions are not valid; its stewards must correct them."),
                code=Code.INVALID_CONDITIONS,
                errors=exc.errors,
            ) from exc
        return Response(self.OutputSerializer(_result_body(request, result)).data)


class DatasetConditionsSetApi(APIView):
    """Set a dataset's DUO conditions (its stewards and hub staff)."""

    class InputSerializer(serializers.Serializer):
        codes = serializers.ListField(child=serializers.CharField(max_length=20), max_length=50)
        diseases = serializers.ListField(
            child=serializers.CharField(max_length=20), required=False, default=list, max_length=200
        )
        values = serializers.DictField(required=False, default=dict)

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(source="slug")
        duo_codes = serializers.ListField(child=serializers.CharField())
        duo_diseases = serializers.ListField(child=serializers.CharField())
        duo_values = serializers.DictField()

    @extend_schema(
        request=InputSerializer,
        parameters=[SLUG],
        operation_id="consent_dataset_conditions_set",
        responses={
            200: OutputSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        dataset = consent_dataset_get(user=request.user, slug=slug, for_change=True)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = services.dataset_conditions_set(
            actor=request.user, dataset=dataset, **serializer.validated_data
        )
        return Response(self.OutputSerializer(dataset).data)


class ConsentImportParser(BaseParser):
    """The body as bytes for the importer, within ``CONSENT_IMPORT_MAX_BYTES``: the import
    form's limit, larger than other forms' because a consent file holds a whole cohort.

    Unlike the API's other raw bodies (lifes/parsers.py) the bytes are not screened here: the
    import service refuses NUL, lone surrogates and hostile JSON itself, with the import's own
    error shape, so the form, the API and the command refuse them alike."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return read_limited(stream, parser_context, settings.CONSENT_IMPORT_MAX_BYTES)


class ConsentImportApi(APIView):
    """Import participant consents: a FHIR R4/R5 Consent or Bundle (JSON) or a CSV file.

    All or nothing: a 400 ``import_refused`` lists every refused entry with its reasons, and
    nothing is stored. ``type`` overrides the detection from the Content-Type.
    """

    parser_classes = [ConsentImportParser]

    class OutputSerializer(serializers.Serializer):
        format = serializers.CharField()
        entries = serializers.IntegerField()
        is_stored = serializers.BooleanField()
        participants_created = serializers.IntegerField()
        consents_recorded = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        version = serializers.IntegerField(allow_null=True)
        ignored = serializers.ListField(child=serializers.CharField())
        notes = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        parameters=[
            SLUG,
            OpenApiParameter(
                "type",
                str,
                enum=list(services.FORMATS),
                required=False,
                description="auto (default), fhir, fhir-r4, fhir-r5 or csv",
            ),
        ],
        request={
            "application/fhir+json": {"type": "object"},
            "application/json": {"type": "object"},
            "text/csv": {"type": "string"},
        },
        operation_id="consent_import",
        responses={
            201: OutputSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            413: ErrorSerializer,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        dataset = consent_dataset_get(user=request.user, slug=slug, for_change=True)
        fmt = request.query_params.get("type") or (
            "csv"
            if "csv" in (request.content_type or "")
            else "fhir"
            if "json" in (request.content_type or "")
            else "auto"
        )
        report = services.consent_import(
            actor=request.user, dataset=dataset, content=request.data or b"", fmt=fmt
        )
        return Response(
            self.OutputSerializer(report.as_json()).data, status=status.HTTP_201_CREATED
        )


class CohortApi(APIView):
    """The consenting cohort of a dataset for a purpose (stewards, staff and auditors)."""

    class InputSerializer(serializers.Serializer):
        purpose = serializers.JSONField(help_text="A purpose as in the matcher request.")
        at = serializers.DateTimeField(required=False, allow_null=True, default=None)
        include_ids = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        digest = serializers.CharField()
        version = serializers.IntegerField()
        at = serializers.DateTimeField()
        ids = serializers.ListField(child=serializers.CharField(), required=False)

    @extend_schema(
        request=InputSerializer,
        parameters=[SLUG],
        operation_id="consent_cohort",
        responses={200: OutputSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request, slug: str) -> Response:
        dataset = consent_dataset_get(user=request.user, slug=slug)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            purpose = parse_purpose(data["purpose"])
            cohort = cohort_for(dataset=dataset, purpose=purpose, at=data["at"])
        except MatcherInputError as exc:
            raise _invalid(exc) from exc
        body: dict[str, Any] = {
            "count": cohort.count,
            "digest": cohort.digest,
            "version": cohort.version,
            "at": cohort.at,
        }
        if data["include_ids"]:
            body["ids"] = cohort.ids()
        return Response(self.OutputSerializer(body).data)


class ProvisionSerializer(serializers.Serializer):
    decision = serializers.CharField()
    code = serializers.CharField()
    disease = serializers.CharField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    is_non_commercial = serializers.BooleanField()
    is_not_for_profit = serializers.BooleanField()


class ConsentRecordSerializer(serializers.Serializer):
    status = serializers.CharField()
    decision = serializers.CharField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)
    policy_uri = serializers.CharField()
    policy_version = serializers.CharField()
    date_signed = serializers.DateField(allow_null=True)
    source = serializers.CharField()
    source_id = serializers.CharField()
    modifiers = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    superseded_at = serializers.DateTimeField(allow_null=True)
    is_current = serializers.BooleanField()
    provisions = ProvisionSerializer(many=True, source="provisions.all")


class ParticipantDetailApi(APIView):
    """A participant's consent history, newest first (stewards, staff and auditors)."""

    class OutputSerializer(serializers.Serializer):
        pseudonym = serializers.CharField()
        opted_out_at = serializers.DateTimeField(allow_null=True)
        consents = ConsentRecordSerializer(many=True, source="consents.all")

    @extend_schema(
        parameters=[SLUG, PSEUDONYM],
        operation_id="consent_participant_retrieve",
        responses={200: OutputSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, slug: str, pseudonym: str) -> Response:
        dataset = consent_dataset_get(user=request.user, slug=slug)
        participant = participant_get(user=request.user, dataset=dataset, pseudonym=pseudonym)
        return Response(self.OutputSerializer(participant).data)


class ParticipantWithdrawApi(APIView):
    """Record a participant's withdrawal of consent, effective now."""

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    class OutputSerializer(serializers.Serializer):
        pseudonym = serializers.CharField(source="participant.pseudonym")
        status = serializers.CharField()
        recorded_at = serializers.DateTimeField()
        version = serializers.IntegerField()

    @extend_schema(
        request=InputSerializer,
        parameters=[SLUG, PSEUDONYM],
        operation_id="consent_participant_withdraw",
        responses={
            200: OutputSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request: Request, slug: str, pseudonym: str) -> Response:
        dataset = consent_dataset_get(user=request.user, slug=slug, for_change=True)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = services.consent_withdraw(
            actor=request.user, dataset=dataset, pseudonym=pseudonym, **serializer.validated_data
        )
        record.version = cohort_version(dataset)
        return Response(self.OutputSerializer(record).data)


class ParticipantOptOutApi(APIView):
    """Record a participant's national opt-out of secondary use (EHDS Art. 71), effective now."""

    class OutputSerializer(serializers.Serializer):
        pseudonym = serializers.CharField()
        opted_out_at = serializers.DateTimeField()

    @extend_schema(
        request=None,
        parameters=[SLUG, PSEUDONYM],
        operation_id="consent_participant_opt_out",
        responses={
            200: OutputSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request: Request, slug: str, pseudonym: str) -> Response:
        dataset = consent_dataset_get(user=request.user, slug=slug, for_change=True)
        participant = services.participant_opt_out_record(
            actor=request.user, dataset=dataset, pseudonym=pseudonym
        )
        return Response(self.OutputSerializer(participant).data)


class MondoSearchApi(APIView):
    """Search MONDO disease classes by name or id, for the request wizard's disease picker.

    Public, like the matcher: the ontology is public and the answer reads no data of the hub.
    The query is capped (100 characters) and so is the answer (at most 20 classes)."""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [AnonRateThrottle]

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField()
        label = serializers.CharField()

    @extend_schema(
        operation_id="consent_mondo_search",
        parameters=[OpenApiParameter("q", str, description="words of the name, or a MONDO id")],
        responses={200: OutputSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        from consent.vocabulary import mondo_search

        query = request.query_params.get("q", "")
        if len(query) > 100:
            raise InvalidInput(
                _("The search is too long."),
                errors={"q": [_("Use at most 100 characters.")]},
            )
        if len(query.strip()) < 2:
            return Response([])
        found = mondo_search(query, limit=20)
        return Response(
            self.OutputSerializer([{"id": i, "label": lb} for i, lb in found], many=True).data
        )
