"""Reference data read once per run: account labels, VAT accounts, journals, settings.

A run imports thousands of orders that all ask the same few questions; the
answers do not change during a run. `clear()` starts every run afresh, and
every database opening too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

_cache: dict[Hashable, Any] = {}


def cached(key: Hashable, load: Callable[[], Any]) -> Any:
    if key not in _cache:
        _cache[key] = load()
    return _cache[key]


def known(key: Hashable) -> bool:
    return key in _cache


def put(key: Hashable, value: Any) -> None:
    _cache[key] = value


def clear() -> None:
    _cache.clear()
