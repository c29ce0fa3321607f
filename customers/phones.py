"""Phone numbers as the CSR types them, in any format, reduced to one comparable form."""

import re

import phonenumbers
from django.conf import settings


def phone_digits(raw):
    """The national number as digits: '(555) 010-2233', '+1 555.010.2233' -> '5550102233'.

    Extensions are dropped. Partial input (a CSR still typing) keeps its digits, minus a
    leading country code 1 for North American numbers, so it can be matched as a prefix.
    """
    if not raw:
        return ""
    raw = re.split(r"(?i)\s*(?:ext\.?|x|#)\s*\d+\s*$", raw.strip())[0]
    try:
        parsed = phonenumbers.parse(raw, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        return str(parsed.national_number)
    digits = re.sub(r"\D", "", raw)
    if settings.PHONE_REGION in ("US", "CA") and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits
