"""Reading JSON data files and turning schema errors into the engine's named errors."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tierspayant.coverage.errors import CoverageError

JsonSource = str | os.PathLike[str] | Mapping[str, Any]


def read_json_object(
    source: JsonSource, error: type[CoverageError]
) -> tuple[Mapping[str, Any], str | None]:
    """Return ``(object, file name or None)`` from a path or an already parsed mapping.

    Raises ``error`` when the file cannot be read, is not JSON, or is not a JSON object.
    """
    if isinstance(source, Mapping):
        return source, None
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error("", f"cannot read the file: {exc.strerror}", source=str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise error("", f"not valid JSON ({exc.msg}, {where})", source=str(path)) from None
    if not isinstance(data, Mapping):
        raise error("", "must hold a JSON object", source=str(path))
    return data, str(path)


def schema_error(
    exc: ValidationError, error: type[CoverageError], source: str | None
) -> CoverageError:
    """Convert pydantic's first error to ``error(field path, why)``; the count of others
    is appended so the author knows there is more to fix."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    path = ""
    for part in first["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    reason = str(first["msg"]).removeprefix("Value error, ")
    value = first.get("input")
    if isinstance(value, str | int | float) and first["type"] != "missing":
        reason += f" (got {value!r})"
    # A failed item also fails its container ("at least 1 item"): not another error.
    others = [e for e in errors[1:] if tuple(e["loc"]) != tuple(first["loc"])[: len(e["loc"])]]
    if others:
        reason += f"; {len(others)} more error(s)"
    return error(path, reason, source=source)
