"""The signed-in identity and its API tokens."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import IsSessionAuthenticated
from accounts.models import TokenScope
from accounts.selectors import primary_organisation, tokens_of
from accounts.services import api_token_create, api_token_revoke


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        email = serializers.EmailField()
        full_name = serializers.CharField()
        orcid = serializers.CharField()
        organisation = serializers.CharField(allow_null=True)
        is_auditor = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer, operation_id="me")
    def get(self, request: Request) -> Response:
        user = request.user
        organisation = primary_organisation(user)
        data = {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "orcid": user.orcid,
            "organisation": organisation.name if organisation else None,
            "is_auditor": user.is_auditor,
        }
        return Response(self.OutputSerializer(data).data)


class TokenOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    scope = serializers.ChoiceField(choices=TokenScope.choices)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField()


class TokenListCreateApi(APIView):
    """A person's tokens. Listing works with a token; creating one needs a signed-in session."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        scope = serializers.ChoiceField(
            choices=TokenScope.choices,
            default=TokenScope.READ,
            help_text="read: GET/HEAD/OPTIONS only; full: everything the person may do.",
        )
        expires_at = serializers.DateTimeField(
            required=False,
            allow_null=True,
            help_text="Default and longest lifetime are hub settings (90 and 365 days).",
        )

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsSessionAuthenticated()]
        return super().get_permissions()

    class CreatedSerializer(TokenOutputSerializer):
        key = serializers.CharField(help_text="Shown once; store it now.")

    @extend_schema(responses=TokenOutputSerializer(many=True), operation_id="tokens_list")
    def get(self, request: Request) -> Response:
        return Response(TokenOutputSerializer(tokens_of(request.user), many=True).data)

    @extend_schema(
        request=InputSerializer, responses={201: CreatedSerializer}, operation_id="tokens_create"
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_token_create(actor=request.user, user=request.user, **data.validated_data)
        body = dict(TokenOutputSerializer(issued.token).data, key=issued.key)
        return Response(body, status=status.HTTP_201_CREATED)


class TokenRevokeApi(APIView):
    @extend_schema(request=None, responses=TokenOutputSerializer, operation_id="tokens_revoke")
    def post(self, request: Request, token_id: int) -> Response:
        token = api_token_revoke(actor=request.user, token_id=token_id)
        return Response(TokenOutputSerializer(token).data)
