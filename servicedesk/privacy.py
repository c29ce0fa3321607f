"""Personal data stays out of shared caches and out of the logs.

A base module (imports no app): a middleware that marks every page a logged-in user gets as private and not to be
stored, and the logging filter settings.LOGGING attaches to the request loggers (gunicorn's access log uses
servicedesk/access_log.py).
"""

import logging
import re
import traceback

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


# A signed link's token (signing.dumps: payload:timestamp:signature) as one segment of a path.
SIGNED_SEGMENT = re.compile(r"(?<=/)[\w-]+(?::[\w-]+)+(?=/|\s|$|\?)")


def redact_tokens(text):
    """`text` (a path or request line) with each signed link's token replaced: a logged feedback link still works."""
    return SIGNED_SEGMENT.sub("<token>", text) if isinstance(text, str) else text


def _traceback_without_messages(exception):
    """The traceback of `exception` and its causes, each message withheld: it may quote what a customer typed."""
    chain = []
    while exception is not None and exception not in chain:
        chain.append(exception)
        exception = exception.__cause__ or exception.__context__
    lines = []
    for link in reversed(chain):
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(link.__traceback__))
        lines.append(f"{type(link).__module__}.{type(link).__qualname__}: (message withheld from the log)\n")
    return "".join(lines).rstrip("\n")


class PrivateRequestLogFilter(logging.Filter):
    """For django.request and django.server: no signed token in a logged path, no customer's words in a logged
    error, and a refused request (4xx) as one line, not a traceback of the PermissionDenied that refused it."""

    def filter(self, record):
        message = redact_tokens(record.getMessage())
        exc_info, record.exc_info, record.exc_text = record.exc_info, None, None
        if exc_info and exc_info[1] is not None and getattr(record, "status_code", 500) >= 500:
            message = f"{message}\n{_traceback_without_messages(exc_info[1])}"
        record.msg, record.args = message, ()
        return True
