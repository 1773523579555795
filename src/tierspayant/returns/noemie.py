"""The NOEMIE column of the reason-code table, behind an adapter: our reason code -> the
NOEMIE return code, read from dated data (``reference/noemie.json``: ``as_of``,
``status``, ``source``, ``codes``), never from code. No public document gives the NOEMIE
codes today, so the shipped data maps nothing and every code shows "non public"; an
operator holding the licensed specification replaces the file (or points
``NoemieMapping.load`` to its own) without a code change."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

#: The mapping shipped with the platform.
DEFAULT_PATH = Path(__file__).resolve().parent / "reference" / "noemie.json"

#: What the column says for a code the mapping does not give.
NOT_PUBLIC = "non public"


@dataclass(frozen=True)
class NoemieMapping:
    """Our reason code -> NOEMIE return code, valid as of ``as_of`` (``source`` says where
    the codes come from, or why there are none)."""

    as_of: dt.date
    source: str
    codes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> NoemieMapping:
        """Read the mapping file. Raises ValueError (French, naming the file and the field)
        when it is not the expected JSON object."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            codes = data["codes"]
            if not isinstance(codes, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in codes.items()
            ):
                raise TypeError("codes")
            return cls(
                as_of=dt.date.fromisoformat(data["as_of"]),
                source=str(data["source"]),
                codes=dict(codes),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path.name} : table de correspondance NOEMIE illisible ({exc})."
            ) from exc

    def code_for(self, code: str) -> str:
        """The NOEMIE code of ``code``, or ``NOT_PUBLIC``."""
        return self.codes.get(code, NOT_PUBLIC)
