"""gunicorn's access log without the customers' signed links (`--logger-class servicedesk.access_log.AccessLog`).

A base module, read by gunicorn only: a feedback or unsubscribe link in the log would let anyone who reads the log
post as that customer.
"""

from gunicorn.glogging import Logger

from .privacy import redact_tokens


class AccessLog(Logger):
    def atoms(self, resp, req, environ, request_time):
        # Every atom: the request line and path, but also the environ's and headers' copies a format may name.
        return {key: redact_tokens(value) for key, value in super().atoms(resp, req, environ, request_time).items()}
