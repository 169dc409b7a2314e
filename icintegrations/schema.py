"""OpenAPI description of the hub's own authentication and input fields (drf-spectacular)."""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "icintegrations.authentication.BearerTokenAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client's token (`manage.py create_api_client`).",
        }


class _StrictFieldExtension(OpenApiSerializerFieldExtension):
    """The strict input fields of icintegrations.fields: a string with its pattern."""

    schema: dict = {}

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": f"^{self.target.pattern}$", **self.schema}


class MoneyFieldExtension(_StrictFieldExtension):
    target_class = "icintegrations.fields.MoneyField"
    schema = {"format": "decimal", "example": "25.00"}


class OffsetDateTimeFieldExtension(_StrictFieldExtension):
    target_class = "icintegrations.fields.OffsetDateTimeField"
    schema = {"format": "date-time", "example": "2026-11-24T05:58:40Z"}


class CanonicalUUIDFieldExtension(_StrictFieldExtension):
    target_class = "icintegrations.fields.CanonicalUUIDField"
    schema = {"format": "uuid", "example": "c9e18d52-e770-4935-8da2-9f262c8ba587"}
