"""``python -m tierspayant.crypto.keygen FILE``: write a demo environment file with fresh keys.

Used by ``make demo`` before Django starts (settings refuse to start without keys). Existing
values are never overwritten, so the demo database stays readable across runs; a variable
that a newer version needs and the file lacks is appended.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from tierspayant.crypto.keys import generate_key_spec

#: Each variable the platform needs at start, and how to make a fresh demo value for it.
GENERATORS: dict[str, Callable[[], str]] = {
    "TIERSPAYANT_SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "TIERSPAYANT_FIELD_KEYS": lambda: generate_key_spec("demo1"),
    "TIERSPAYANT_INDEX_KEYS": lambda: generate_key_spec("demo1"),
    # Ed25519 seed (32 random bytes) signing the disclosure log's checkpoints (audit).
    "TIERSPAYANT_AUDIT_SIGNING_KEYS": lambda: generate_key_spec("demo1"),
}


def write_demo_env(path: Path) -> list[str]:
    """Append to ``path`` (created mode 0600) a fresh value for each variable of
    :data:`GENERATORS` it does not define yet; return the names added."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    text = path.read_text(encoding="ascii")
    present = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line}
    added = [name for name in GENERATORS if name not in present]
    if added:
        lines = [f"{name}={GENERATORS[name]()}" for name in added]
        prefix = "" if not text or text.endswith("\n") else "\n"
        path.write_text(text + prefix + "\n".join(lines) + "\n", encoding="ascii")
    return added


if __name__ == "__main__":  # pragma: no cover - exercised by make demo
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "var/demo.env")
    added = write_demo_env(target)
    print(f"{target}: {'generated ' + ', '.join(added) if added else 'kept existing keys'}")
