"""The numbers a request may carry, bounded: an id or a page past what the database can hold is not found or
ignored, never a database error (PostgreSQL refuses an `integer` above 2**31-1, SQLite a number above 2**63-1,
and both answered 500 to whoever typed one).

The app factory installs `BoundedIntegerConverter` as the routes' `int` converter; views read numbers from the
query string and forms with `scheduler.web.int_arg`, which bounds them to what they mean.
This module imports nothing of the app: the app factory uses it before any feature is loaded.
"""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter, Map

#: The largest id a row can have (PostgreSQL `integer`): a larger one in a URL is not found, not an error.
MAX_ID = 2**31 - 1


def valid_id(value: int | None) -> bool:
    """Whether a row can have this id: a larger or negative one is looked up nowhere (it is not found)."""
    return value is not None and 0 < value <= MAX_ID


_WHOLE_NUMBER = re.compile(r"([+-]?)0*([0-9]+)")
#: More significant digits than any bound has: such a number is beyond all of them, without computing it.
_MAX_DIGITS = 20


def whole_number(value: str | None) -> int | None:
    """The whole number written in `value` (ASCII digits, an optional sign, spaces around), else None.

    A number longer than any bound comes back as ±10**20 instead of being converted: a megabyte of digits
    costs nothing, and Python refuses to convert more than 4300 of them anyway.
    """
    match = _WHOLE_NUMBER.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    sign, digits = match.groups()
    number = 10**_MAX_DIGITS if len(digits) > _MAX_DIGITS else int(digits)
    return -number if sign == "-" else number


def regex_at_most(limit: int) -> str:
    """A regular expression of the numbers from 0 to `limit` (leading zeros allowed, as `int` allows them):
    `123` gives `0*(?:[0-9]{1,2}|0[0-9]{2}|1[0-1][0-9]|12[0-2]|123)`."""
    digits = str(limit)
    alternatives = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(int(d) for d in digits):
        if digit:
            rest = len(digits) - i - 1
            tail = "" if rest == 0 else "[0-9]" if rest == 1 else f"[0-9]{{{rest}}}"
            alternatives.append(digits[:i] + ("0" if digit == 1 else f"[0-{digit - 1}]") + tail)
    alternatives.append(digits)
    return f"0*(?:{'|'.join(alternatives)})"


class BoundedIntegerConverter(IntegerConverter):
    """`<int:...>` in a route, matching only up to `MAX_ID` unless the route says `max=`: a larger id does
    not match, so the route answers 404 before its view (or the database) sees it.

    The bound is in the regular expression, not only in `to_python`: werkzeug checks a rule's methods before
    its converters, so a number refused by `to_python` on a path that another rule serves with other methods
    (GET and POST of `/presenze/<id>/codice/<code>` are two views) would answer 405 instead of 404.
    """

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        if max is not None and max >= 0 and not signed and not fixed_digits:
            self.regex = regex_at_most(max)
