"""One page of a long list, with what the page links of `_macros.html:pagination` need."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import ceil
from typing import Any


def clamp_page(page: int, total: int, per_page: int) -> int:
    """A requested page number brought within the pages there are (a stale or typed link still shows one)."""
    return min(max(1, page), max(1, ceil(total / max(1, per_page))))


@dataclass
class Page:
    """One page of a list, with what the pagination links need."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def first_index(self) -> int:
        """1-based position of the first item shown ("da 51 a 100 di 200")."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)

    def iter_pages(self, edge: int = 2, around: int = 2) -> Iterator[int | None]:
        """Page numbers to link, None where a gap ("…") goes: 1 2 … 6 7 [8] 9 10 … 19 20."""
        last_shown = 0
        for number in range(1, self.pages + 1):
            if number <= edge or number > self.pages - edge or abs(number - self.page) <= around:
                if number != last_shown + 1:
                    yield None
                yield number
                last_shown = number
