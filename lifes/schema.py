"""OpenAPI schema wiring: names for nested Input/Output serializers and the token scheme."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class LifesAutoSchema(AutoSchema):
    """Name ``FooApi.OutputSerializer`` as ``FooOutput`` so nested serializers never collide."""

    def get_serializer_name(self, serializer, direction) -> str:
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, inner = qualname.rsplit(".", 2)[-2:]
            return outer.removesuffix("Api") + inner
        return super().get_serializer_name(serializer, direction)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An API token from your profile page: `Token <key>`.",
        }


class PassportTokenScheme(OpenApiAuthenticationExtension):
    target_class = "permits.api.PassportTokenAuthentication"
    name = "passportBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A passport-scoped token from POST /api/v1/ga4gh/token (RFC 8693).",
        }
