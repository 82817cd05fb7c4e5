"""The reports API: ask for a report, then poll it."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from lifes.files import private_file_response
from reports import services
from reports.models import Report, ReportKind, ReportStatus
from reports.selectors import is_file_for, report_file_get, report_get


class ReportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    message = serializers.CharField()
    sha256 = serializers.CharField()
    head_seq = serializers.IntegerField(allow_null=True)
    head_hash = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, obj: Report) -> str | None:
        request = self.context["request"]
        if obj.status != ReportStatus.DONE or not is_file_for(request.user, obj):
            return None
        return request.build_absolute_uri(reverse("reports_api:download", args=[obj.pk]))


class ReportCreateApi(APIView):
    """Queue a report; 404 when the subject is not yours to see (or a period report is asked
    by someone who is neither auditor nor staff)."""

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ReportKind.choices)
        subject = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        period_start = serializers.DateField(required=False, allow_null=True, default=None)
        period_end = serializers.DateField(required=False, allow_null=True, default=None)
        organisation = serializers.PrimaryKeyRelatedField(
            queryset=Organisation.objects.all(), required=False, allow_null=True, default=None
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["kind"] != ReportKind.PERIOD and not attrs.get("subject"):
                raise serializers.ValidationError({"subject": "Name the request or the permit."})
            return attrs

    class OutputSerializer(ReportOutputSerializer):
        pass

    @extend_schema(
        request=InputSerializer, responses={202: OutputSerializer}, operation_id="report_create"
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.report_request(actor=request.user, **serializer.validated_data)
        report.refresh_from_db()
        return Response(
            self.OutputSerializer(report, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class ReportDetailApi(APIView):
    """A report's status and progress; the download link once it is done."""

    class OutputSerializer(ReportOutputSerializer):
        pass

    @extend_schema(responses={200: OutputSerializer}, operation_id="report_get")
    def get(self, request: Request, report_id: int) -> Response:
        report = report_get(user=request.user, report_id=report_id)
        return Response(self.OutputSerializer(report, context={"request": request}).data)


class ReportDownloadApi(APIView):
    """The report's PDF, with a token as well as a session. A dossier only for the person it
    was built for (it shows their view of the request)."""

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF")
        },
        operation_id="report_download",
    )
    def get(self, request: Request, report_id: int) -> HttpResponse:
        report = report_file_get(user=request.user, report_id=report_id)
        return private_file_response(
            request, report.file, filename=report.filename, content_type="application/pdf"
        )
