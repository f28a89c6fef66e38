"""How deep a JSON document nests, measured on its bytes before anything parses it.

Python's parser recurses once per level: a small body nested a thousand levels deep is a
``RecursionError`` (a 500) for whoever parses it. Counting brackets outside strings is cheap and
needs no recursion.
"""

from __future__ import annotations

import re

#: Deepest nesting of objects and arrays accepted in a JSON request body.
MAX_JSON_DEPTH = 64

_STRUCTURE = re.compile(rb'[\[\]{}"\\]')
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")


def nests_deeper_than(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``raw``, read as JSON, opens more than ``limit`` objects or arrays at once."""
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _STRUCTURE.finditer(raw):
        at = match.start()
        if at == escaped_at:
            continue
        char = raw[at]
        if in_string:
            if char == _BACKSLASH:
                escaped_at = at + 1
            elif char == _QUOTE:
                in_string = False
        elif char == _QUOTE:
            in_string = True
        elif char in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif char in _CLOSE:
            depth -= 1
    return False
