"""The one error every service raises when a rule is broken.

A service knows which rule was broken and says so with a `code`; it does not know how the refusal reaches
the person (a page, a JSON body, a CLI message). Views choose the HTTP status from the code
(`scheduler.web.status_for`), never from the message, and put the message next to `field` when there is one.
"""

from __future__ import annotations

#: What each code means for the person who asked, and the status a page answers with.
STATUS_BY_CODE = {
    "invalid": 400,  # what was typed breaks a rule: shown next to the field
    "forbidden": 403,  # this person may not do this (another entity's object, a role)
    "not_found": 404,  # no such object here: the same answer as for an id that never existed
    "closed": 409,  # the object's state forbids it now (answers closed, meeting cancelled, already sent)
    "conflict": 409,  # someone else got there first (a duplicate, a seat taken)
    "too_large": 413,  # what was sent is larger than the service accepts
}


class DomainError(Exception):
    """A rule was broken: `message` is Italian, for the person who asked; `field` names the form field it
    belongs to; `code` (one of STATUS_BY_CODE) says what kind of refusal it is."""

    #: The code of a subclass's errors when the raiser does not give one.
    default_code = "invalid"

    def __init__(self, message: str, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code
        if self.code not in STATUS_BY_CODE:
            raise ValueError(f"unknown error code {self.code!r}")

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]
