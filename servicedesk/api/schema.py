"""How the OpenAPI schema describes the integrations' tokens (drf-spectacular finds an extension once imported)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "servicedesk.integrations.access.TokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration's API token (a manager issues it on the integration's page). "
                           "A read token reads; a read-and-write token also writes.",
        }
