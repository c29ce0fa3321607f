"""How the API (servicedesk/api/) lets a request in: an integration's token, or a manager's session for the
browsable API; the scope decides whether it may write; a per-token rate limit on the shared cache.

Named in settings.REST_FRAMEWORK, so every API view gets them without importing this module.
"""

from django.conf import settings
from rest_framework import authentication, exceptions, permissions, throttling

from servicedesk import roles
from servicedesk.lockouts import client_ip_address

from .models import ApiToken
from .services import api_token_record_use


class IntegrationClient:
    """request.user for a request made with a token: no person, the integration that holds the token."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, token):
        self.token = token
        self.integration = token.integration
        self.pk = None

    def __str__(self):
        return f"integration {self.integration.name}"


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` (or `Token <token>`). An unknown or revoked token is refused (401), never
    treated as anonymous."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the token as: Authorization: Bearer <token>.")
        try:
            secret = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = (
            ApiToken.objects.active().select_related("integration")
            .filter(digest=ApiToken.digest_of(secret)).first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid, or it was revoked.")
        api_token_record_use(token=token, address=client_ip_address(request))
        return IntegrationClient(token), token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class IntegrationAccess(permissions.BasePermission):
    """A token reads with any scope and writes with read-write only; a logged-in person must be a manager (the
    browsable API is for trying the API out, not a second set of pages for every role)."""

    message = "This token may only read."

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiToken):
            return request.method in permissions.SAFE_METHODS or request.auth.can_write
        if request.user and request.user.is_authenticated:
            self.message = "The API is open to managers and to integrations' tokens."
            return roles.has_role(request.user, roles.MANAGER)
        return False


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """Requests per token (a manager's session counts per user), counted in the default cache, which production
    shares between the web processes (CACHE_URL). Over the rate: 429 with Retry-After."""

    scope = "api_token"

    def get_rate(self):
        return settings.API_TOKEN_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}

