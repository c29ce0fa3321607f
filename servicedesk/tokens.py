"""Signed links for the customer's pages: one job's feedback page, one customer's unsubscribe.

A base module: the public pages read the tokens, and the apps' e-mails (recommendations/reminders.py) make them.
The salts keep their old names, so links already sent keep working.

Each kind has its own salt, so a token made for one purpose is refused by the other, and each carries only an
id: the page loads that one row, so a tampered token can at best fail the signature, never name another job.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core import signing

FEEDBACK_SALT = "servicedesk.public.feedback"
UNSUBSCRIBE_SALT = "servicedesk.public.unsubscribe"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def feedback_link_max_age():
    return timedelta(days=settings.FEEDBACK_LINK_DAYS)


def make_feedback_token(job):
    return signing.dumps({"j": job.pk}, salt=FEEDBACK_SALT, compress=False)


def read_feedback_token(token):
    """The job id the token was made for; LinkExpired after FEEDBACK_LINK_DAYS, LinkInvalid for anything else."""
    return _read(token, salt=FEEDBACK_SALT, key="j", max_age=feedback_link_max_age())


def make_unsubscribe_token(customer):
    return signing.dumps({"c": customer.pk}, salt=UNSUBSCRIBE_SALT, compress=False)


def read_unsubscribe_token(token):
    # No expiry: an unsubscribe link in an old e-mail must still work.
    return _read(token, salt=UNSUBSCRIBE_SALT, key="c", max_age=None)


def _read(token, *, salt, key, max_age):
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except (signing.BadSignature, ValueError, TypeError, UnicodeError) as exc:
        raise LinkInvalid from exc
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise LinkInvalid
    return value


def token_digest(token):
    """What the database keeps of a link: enough to count its uses, not enough to rebuild it."""
    return hashlib.sha256(token.encode()).hexdigest()
