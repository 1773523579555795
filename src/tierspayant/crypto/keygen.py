"""``python -m tierspayant.crypto.keygen FILE``: write a demo environment file with fresh keys.

Used by ``make demo`` before Django starts (settings refuse to start without keys). Never
overwrites an existing file, so the demo database stays readable across runs.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from tierspayant.crypto.keys import generate_key_spec


def write_demo_env(path: Path) -> bool:
    """Create ``path`` (mode 0600) with a secret key, field and index keys; False if it exists."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"TIERSPAYANT_SECRET_KEY={secrets.token_urlsafe(50)}",
        f"TIERSPAYANT_FIELD_KEYS={generate_key_spec('demo1')}",
        f"TIERSPAYANT_INDEX_KEYS={generate_key_spec('demo1')}",
    ]
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return True


if __name__ == "__main__":  # pragma: no cover - exercised by make demo
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "var/demo.env")
    print(f"{target}: {'keys generated' if write_demo_env(target) else 'kept existing keys'}")
