"""A small least-recently-used cache for values that a key names exactly (an ETag, a list's change stamps).

Such a key changes whenever the value would, so an entry is never out of date and each web process can keep
its own: nothing needs telling the other processes when data change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from flask import Flask

V = TypeVar("V")


class LRUCache(Generic[V]):
    """At most `size` values, the least recently used dropped first; safe to share between threads."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value kept for `key`, else `compute()` kept and returned (computed outside the lock)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def app_cache(app: Flask, name: str, size: int) -> LRUCache:
    """The app's own cache called `name` (one per app, so tests and several apps in a process never share)."""
    return app.extensions.setdefault(f"tavoli_cache_{name}", LRUCache(size))
