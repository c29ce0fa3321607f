"""Personal data stays out of shared caches and out of the logs.

A base module (imports no app): a middleware that marks every page a logged-in user gets as private and not to be
stored, and the logging filters settings.LOGGING attaches.
"""

from django.utils.cache import patch_cache_control


class PrivateResponsesMiddleware:
    """Staff pages and CSV exports carry customers' names, addresses and phone numbers: no proxy, shared computer's
    browser cache or back button keeps a copy once the user has logged out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
