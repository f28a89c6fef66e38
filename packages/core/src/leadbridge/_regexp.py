"""The regular expressions of segment filters: one syntax both databases read alike.

SQLite has no regular expressions of its own; each connection gets a ``REGEXP`` function
backed by RE2, which matches in time linear in the text (a backtracking engine such as
Python's ``re`` takes hours on ``(.*.){8}!`` over a few thousand contacts). PostgreSQL uses
its own engine (``~*``). The two agree on the syntax :func:`check_pattern` accepts; anything
else is refused when a filter is written rather than read differently by each database.
"""

from __future__ import annotations

from functools import lru_cache

import re2  # type: ignore[import-untyped]

#: PostgreSQL refuses repetition counts above 255 (RE2 would take up to 1000).
MAX_REPEAT = 255

_ESCAPES = "dDsSwWntrfvA"
_NEGATED_CLASSES = "DSW"
# [:upper:] and [:lower:] are left out: matching ignores case, and the databases disagree on
# what they then mean.
_POSIX_CLASSES = (
    "alnum",
    "alpha",
    "blank",
    "cntrl",
    "digit",
    "graph",
    "print",
    "punct",
    "space",
    "xdigit",
)
SUPPORTED_SYNTAX = (
    r"literal characters, . [] [^] [[:alpha:]] ^ $ | () (?:) * + ? {m} {m,} {m,n} (counts up "
    r"to 255; a literal brace is \{), lazy quantifiers, the escapes \d \D \s \S \w \W \n \t \r "
    r"\f \v \A, and a backslash before any punctuation"
)


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False  # PostgreSQL's ~*
    options.dot_nl = True  # PostgreSQL's default: . matches a newline too
    options.never_capture = True  # only whether it matches counts
    options.log_errors = False  # an invalid pattern is reported to the caller, not stderr
    return options


_OPTIONS = _options()


def check_pattern(pattern: str) -> None:
    """Refuse a pattern outside the syntax both databases share.

    Raises :class:`ValueError` saying which construct is not supported, or what RE2 found
    wrong with it.
    """
    problem = _unshared_construct(pattern)
    if problem is not None:
        raise ValueError(
            f"{pattern!r} uses {problem}, which SQLite and PostgreSQL do not read alike; "
            f"supported: {SUPPORTED_SYNTAX}"
        )
    try:
        _compiled(pattern)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        raise ValueError(f"{pattern!r} is not a valid regular expression ({detail})") from exc


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches anywhere in ``text``, ignoring case."""
    return _compiled(pattern).search(text) is not None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re2._Regexp:
    return re2.compile(pattern, _OPTIONS)


def _unshared_construct(pattern: str) -> str | None:
    """The first construct of ``pattern`` outside the shared syntax, described; else None."""
    i, length = 0, len(pattern)
    in_class = False
    class_start = 0
    while i < length:
        char = pattern[i]
        if char == "\\":
            if i + 1 == length:
                return "a trailing backslash"
            escaped = pattern[i + 1]
            if escaped.isalnum() and escaped not in _ESCAPES:
                return _escape_problem(escaped)
            if in_class and escaped in _NEGATED_CLASSES + "A":
                return f"\\{escaped} inside brackets (write a [^…] class instead)"
            i += 2
            continue
        if in_class:
            if char == "[" and pattern[i + 1 : i + 2] in (".", "="):
                return "collating elements or equivalence classes ([. .] or [= =])"
            if char == "[" and pattern[i + 1 : i + 2] == ":":
                end = pattern.find(":]", i + 2)
                name = pattern[i + 2 : end] if end > 0 else ""
                if name not in _POSIX_CLASSES:
                    supported = ", ".join(_POSIX_CLASSES)
                    return f"the character class [:{name}:] (supported: {supported})"
                i = end + 2
                continue
            if char == "]" and i > class_start:
                in_class = False
            i += 1
            continue
        if char == "[":
            in_class = True
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            class_start = i  # a ] right here is a literal ]
            continue
        if char == "(" and pattern[i + 1 : i + 2] == "?" and pattern[i + 2 : i + 3] != ":":
            return "a (?…) group other than (?:…) (lookaround, named groups, inline flags)"
        if char == "{":
            problem = _bound_problem(pattern, i)
            if problem is not None:
                return problem
        i += 1
    return None


def _escape_problem(escaped: str) -> str:
    if escaped.isdigit():
        return f"the back-reference or octal escape \\{escaped}"
    if escaped in "bBmMyY":
        return f"the word-boundary escape \\{escaped}"
    return f"the escape \\{escaped}"


def _bound_problem(pattern: str, start: int) -> str | None:
    end = pattern.find("}", start)
    body = pattern[start + 1 : end] if end > 0 else ""
    low, comma, high = body.partition(",")
    if not low.isdigit() or not (high.isdigit() or (comma and not high) or not comma):
        return "a { that does not start a repetition count (write a literal brace as \\{)"
    if not comma:
        high = low
    if int(low) > MAX_REPEAT or (high and int(high) > MAX_REPEAT):
        return f"a repetition count above {MAX_REPEAT}"
    if high and int(low) > int(high):
        return f"the repetition count {{{body}}} whose minimum exceeds its maximum"
    return None
