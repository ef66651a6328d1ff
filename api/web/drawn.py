"""What the pages have drawn: charts and views of things that never change, kept by key.

A finished report, a saved fit and a finished plan never change, so their
charts and the views built from them are drawn once and kept (the last
:data:`SIZE`, least recently used first out). A key names the thing and its
version (an artifact's hash, a row's fingerprint) and, where the page depends
on it, the reader's language. Drawing happens outside the lock: two readers of
a page not yet kept may both draw it, and either result is the same.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

#: Items kept.
SIZE = 64


class Drawn:
    """The last ``size`` items drawn, by key (thread-safe)."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, draw: Callable[[], Any]) -> Any:
        """The item of ``key``, drawn by ``draw`` unless kept."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        found = draw()
        with self._lock:
            self._items[key] = found
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return found

    def clear(self) -> None:
        """Forget every item."""
        with self._lock:
            self._items.clear()


#: The one store of the workspace's pages.
DRAWN = Drawn()
