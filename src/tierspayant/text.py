"""Checks of untrusted text at the platform's boundaries. Pure: no Django, no project import.

Every text that reaches a file, a database or a bank comes through one of these first
(``request_limits.InputLimitsMiddleware`` for every HTTP form, query string and JSON body;
the member-file parser; the bank-detail check):

- :func:`first_control` finds a control character (Unicode category Cc: C0, DEL, C1, which
  includes NUL) or a line/paragraph separator (U+2028, U+2029). PostgreSQL refuses NUL in
  text, XML 1.0 refuses most C0 characters and banks refuse all of them, so such a text is
  refused at the boundary with an error naming the field, never stored.
- :func:`json_depth` measures the nesting of a JSON document *before* it is parsed (Python's
  parser and pydantic recurse, so a deep document would end in ``RecursionError``).
- :func:`control_path` finds, in a parsed JSON document, the path of the first key or string
  value holding a control character.
- :func:`sepa_text` and :func:`sepa_id` put a text in the SEPA character set (EPC217-08
  §1.4, « SEPA Requirements for an Extended Character Set »: ``a-z A-Z 0-9 / - ? : ( ) . ,
  ' +`` and space): letters transliterated by ``text-unidecode`` (é -> e, ß -> ss, Œ -> OE),
  ``&`` -> ``+``, ``_`` -> ``-``, ``"`` -> ``'``, brackets -> parentheses, anything else a
  space, spaces collapsed. The one transliteration of every text that goes to a bank
  (``payments.sepa``), also the check of a holder name when bank details are entered
  (``providers.banking``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from text_unidecode import unidecode

logger = logging.getLogger(__name__)

#: Control characters refused in any single-line text: C0 (NUL included), DEL, C1, and the
#: Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: The same, for multi-line text (form text areas): tab, line feed and carriage return pass.
CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")

#: A key or field name that may be shown in an error: an identifier, never a value (a NIR
#: used as a key starts with a digit and is shown as ``?``).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def first_control(value: str, *, multiline: bool = False) -> int | None:
    """Index of the first control character of ``value`` (see :data:`CONTROL`), or None.
    ``multiline`` lets tab, LF and CR through."""
    found = (CONTROL_MULTILINE if multiline else CONTROL).search(value)
    return found.start() if found else None


def json_depth(body: bytes, *, limit: int) -> int:
    """The nesting depth of the JSON text ``body`` (``{}`` is 1, ``[[1]]`` is 2), counting the
    brackets outside strings, without parsing. Stops early and returns ``limit + 1`` once the
    depth passes ``limit``. Malformed text gives a best-effort figure (the parser refuses it
    later)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return limit + 1
        else:
            depth -= 1
    return deepest


def shown_name(name: str) -> str | None:
    """``name`` (a form field or JSON key, from the client) if it is an identifier that may be
    shown in an error (:data:`_NAME`), else None."""
    return name if _NAME.fullmatch(name) else None


def control_path(data: Any, *, path: str = "") -> str | None:
    """The path (``a.b[2].c``; ``""`` for the document itself) of the first string value or
    object key of the parsed JSON ``data`` holding a control character, or None. Keys that
    are not identifiers are shown as ``?``. Iterative: safe on any depth the parser
    produced."""
    stack: list[tuple[str, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if CONTROL.search(value):
                return where
        elif isinstance(value, dict):
            items = []
            for key, item in value.items():
                shown = shown_name(key) or "?"
                child = f"{where}.{shown}" if where else shown
                if CONTROL.search(key):
                    return where  # the object holding the key: the key itself is not shown
                items.append((child, item))
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{where}[{i}]", item) for i, item in enumerate(value)]))
    return None


#: EPC217-08 section 1.4: what is outside the Latin character set every SEPA bank accepts.
_NEIGHBOURS = str.maketrans(
    {"&": "+", "_": "-", '"': "'", "<": "(", ">": ")", "[": "(", "]": ")", "{": "(", "}": ")"}
)
_OUTSIDE = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]+")
_SPACES = re.compile(r" {2,}")


def sepa_text(value: str, max_length: int, *, field: str = "text") -> str:
    """``value`` in the SEPA character set, at most ``max_length`` characters, stripped;
    may be empty. A change is logged (the field's name only, never the text)."""
    text = _SPACES.sub(" ", _OUTSIDE.sub(" ", unidecode(value).translate(_NEIGHBOURS)))
    text = text.strip()[:max_length].rstrip()
    if text != value:
        logger.info("SEPA text transliterated: field=%s", field)
    return text


def sepa_id(value: str, *, field: str = "id") -> str:
    """An identifier (message id, end-to-end id) in the SEPA set, at most 35 characters, with
    EPC's rule for references: no leading or trailing ``/`` and no ``//``; never empty
    (``NOTPROVIDED``)."""
    text = sepa_text(value, 35, field=field).replace(" ", "-")
    while "//" in text:
        text = text.replace("//", "/")
    return text.strip("/") or "NOTPROVIDED"
