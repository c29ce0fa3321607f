"""Cells as the office's spreadsheet writes them: dates in ISO, US (3/5/2025 1:00 PM) or day-first (05/03/2025 13:00)
order, and amounts with currency signs and thousands separators.

A column's date order is found from its own values (a 13 or more in the first place means day-first); a column
where every date would read both ways is ambiguous, and the manager is asked once (the mapping remembers it).
"""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

ISO, US, DAY_FIRST = "iso", "us", "day"
ORDER_LABELS = {US: "month first (03/05/2025 is March 5)", DAY_FIRST: "day first (05/03/2025 is 5 March)"}
AMBIGUOUS = "ambiguous"

_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]+(.+))?$")
_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[ T,]+(.+))?$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?(?:\.\d+)?\s*(?:([ap])\.?\s*m\.?)?$", re.IGNORECASE)


def date_order(values):
    """The order a column's dates are written in: ISO (or no dates), US, DAY_FIRST, or AMBIGUOUS when every
    slashed date reads both ways. Raises ValueError when the column has both (13/01 and 01/13)."""
    us = day = slashed = False
    for value in values:
        match = _SLASHED.match(value.strip())
        if not match:
            continue
        slashed = True
        first, second = int(match[1]), int(match[2])
        if "." in value.split()[0]:
            day = True  # 05.03.2025 is written day first wherever it is written
        elif first > 12 >= second:
            day = True
        elif second > 12 >= first:
            us = True
    if us and day:
        raise ValueError("has dates written both month first and day first")
    if day:
        return DAY_FIRST
    if us:
        return US
    return AMBIGUOUS if slashed else ISO


def parse_moment(text, order=US):
    """A naive datetime from a cell (midnight for a date alone); ValueError saying what is wrong."""
    value = text.strip()
    if not value:
        return None
    match = _ISO_DATE.match(value)
    if match:
        year, month, day, rest = int(match[1]), int(match[2]), int(match[3]), match[4]
    else:
        match = _SLASHED.match(value)
        if not match:
            raise ValueError(f"{text!r} is not a date")
        first, second, year, rest = int(match[1]), int(match[2]), int(match[3]), match[4]
        if year < 100:
            year += 2000 if year < 70 else 1900
        if order == DAY_FIRST:
            day, month = first, second
        else:
            month, day = first, second
    hour = minute = second_ = 0
    if rest:
        timed = _TIME.match(rest.strip())
        if not timed:
            raise ValueError(f"{text!r} has a time that cannot be read")
        hour, minute, second_ = int(timed[1]), int(timed[2] or 0), int(timed[3] or 0)
        if timed[4]:
            if not 1 <= hour <= 12:
                raise ValueError(f"{text!r} has a time that cannot be read")
            hour = hour % 12 + (12 if timed[4].lower() == "p" else 0)
    try:
        moment = datetime(year, month, day, hour, minute, second_)
    except ValueError:
        which = "day first" if order == DAY_FIRST else "month first"
        raise ValueError(f"{text!r} is not a date (read {which})") from None
    if not 1900 <= moment.year <= 2100:
        raise ValueError(f"{text!r} has an unlikely year")
    return moment


def moment_text(text, order=US):
    """The cell as ISO text ("2025-03-05 13:00:00"), which the shared import's date parser reads; blank stays blank."""
    moment = parse_moment(text, order)
    return moment.isoformat(sep=" ") if moment else ""


_CURRENCY = re.compile(r"[$€£¥]|\b(?:USD|CAD|EUR|GBP|AUD)\b", re.IGNORECASE)


def parse_amount(text):
    """'$1,234.50', '1.234,50 €', '(12.00)', '1 234,50' -> Decimal; blank -> None; ValueError otherwise.
    The last of ',' and '.' is the decimal mark when both appear; a lone ',' before exactly three digits groups
    thousands, before one or two it is the decimal mark."""
    value = text.strip()
    if not value:
        return None
    negative = value.startswith("(") and value.endswith(")")
    value = _CURRENCY.sub("", value.strip("()")).replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    value = value.replace("'", "")  # 1'234.50
    if value.endswith("-"):
        negative, value = True, value[:-1]
    if value.startswith("-"):
        negative, value = True, value[1:]
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
    elif value.count(",") == 1 and not re.search(r",\d{3}$", value):
        decimal_mark = ","
    elif value.count(".") > 1:
        decimal_mark = ","  # 1.234.567 groups thousands
    else:
        decimal_mark = "."
    grouping = "." if decimal_mark == "," else ","
    digits = value.replace(grouping, "").replace(decimal_mark, ".")
    if not re.fullmatch(r"\d+(?:\.\d+)?", digits):
        raise ValueError(f"{text!r} is not an amount")
    try:
        amount = Decimal(digits)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    return -amount if negative else amount
