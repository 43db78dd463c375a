"""Dockerfile words: turning a value into a word BuildKit reads back as the same value.

BuildKit splits ``ENV``/``LABEL`` ``key=value`` pairs and ``COPY``/``ADD`` arguments into words, then runs each word
through its shell-like lexer (quotes removed, the escape character honoured, ``$VAR`` expanded). The legacy forms
``ENV key some value`` and ``LABEL key some value`` take the rest of the line as one value instead; to write such a
value as a ``key=value`` pair its blanks must be quoted without changing what the lexer makes of it.

>>> legacy_value_word("some value  here")
'"some value  here"'
>>> legacy_value_word("'a b' $HOME")
"'a b'\\\\ $HOME"
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"[A-Za-z0-9_./*?@%+:,=~^-]+")


def legacy_value_word(raw: str, escape: str = "\\") -> str | None:
    """One word that the lexer reads exactly as it reads the legacy value ``raw``; None when ``raw`` is malformed.

    A value without blanks is already a word. Otherwise, when it holds no quote and no escape character, double
    quotes around it change nothing (only ``$``, ``"`` and the escape character mean anything inside them); else
    each blank outside quotes gets the escape character in front of it. A value ending with the escape character
    has no such word: at the end of a line the escape continues the line, elsewhere it escapes the blank after it.
    """
    if raw.endswith(escape):
        return None
    if not any(ch.isspace() for ch in raw):
        return raw
    if not any(ch in raw for ch in ("'", '"', escape)):
        return f'"{raw}"'
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(raw):
        ch = raw[i]
        if quote == "'":
            if ch == "'":
                quote = ""
        elif ch == escape:
            if i + 1 >= len(raw):
                return None
            out.append(ch)
            i += 1
            ch = raw[i]
        elif quote == '"':
            if ch == '"':
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch.isspace():
            out.append(escape)
        out.append(ch)
        i += 1
    return None if quote else "".join(out)


def blanks_are_quoted(word: str, escape: str = "\\") -> bool:
    """True when every blank in ``word`` is inside closed quotes or escaped, so the lexer keeps it one word.

    A word ending with the escape character never qualifies: it would continue the line or escape the next blank.

    >>> blanks_are_quoted('"a b"'), blanks_are_quoted("a\\\\ b"), blanks_are_quoted("a b"), blanks_are_quoted("'a b")
    (True, True, False, False)
    """
    if word.endswith(escape):
        return False
    quote = ""
    i = 0
    while i < len(word):
        ch = word[i]
        if quote == "'":
            quote = "" if ch == "'" else quote
        elif ch == escape:
            i += 1
        elif quote == '"':
            quote = "" if ch == '"' else quote
        elif ch in "'\"":
            quote = ch
        elif ch.isspace():
            return False
        i += 1
    return not quote


def is_plain(word: str) -> bool:
    """True when ``word`` means itself to every Dockerfile reader: no blank, quote, escape, ``$``, ``[`` or ``#``.

    Such a word can move between the JSON form and the shell form of ``COPY``/``ADD`` unchanged.

    >>> is_plain("package*.json"), is_plain("a b"), is_plain("$HOME/x")
    (True, False, False)
    """
    return _PLAIN.fullmatch(word) is not None


def literal_word(value: str, escape: str = "\\") -> str:
    """A word the lexer reads as exactly ``value``, nothing expanded (for writing a value as an ARG default).

    >>> print(literal_word("full"), literal_word("a b$c"), literal_word("it's $x"))
    full 'a b$c' "it's \\$x"
    """
    if _PLAIN.fullmatch(value) and escape not in value:
        return value
    if "'" not in value:
        return f"'{value}'"
    out = "".join(escape + ch if ch in ('"', "$", escape) else ch for ch in value)
    return f'"{out}"'
