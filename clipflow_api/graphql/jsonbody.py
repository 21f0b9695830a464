"""Refuse a JSON document nested deeper than any real request, before it is parsed.

Python's ``json`` recurses once per level: a 2 MB body of ``[`` is a ``RecursionError``
(a 500, with a traceback in development) long before GraphQL sees it, and a merely deep
value would still be walked by every later step. No ClipFlow input comes near
``MAX_JSON_DEPTH`` levels (a ``JSON`` scalar variable included), so deeper is refused.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64

# strings are skipped whole (brackets inside them do not nest); only brackets count
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_OPEN = frozenset(b"[{")


def json_too_deep(data: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects more than ``limit`` levels deep."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # cannot be deeper than its number of openings
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()[0]
        if token in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif token != 0x22:  # a closing bracket ('"' starts a string)
            depth -= 1
    return False
