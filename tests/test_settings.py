"""Outside the demo, a missing or weak key refuses to start, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tierspayant.crypto.keys import generate_key_spec

GOOD = {
    "TIERSPAYANT_SECRET_KEY": "s3cr3t-" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789" * 2,
    "TIERSPAYANT_FIELD_KEYS": generate_key_spec("f1"),
    "TIERSPAYANT_INDEX_KEYS": generate_key_spec("i1"),
    "TIERSPAYANT_AUDIT_SIGNING_KEYS": generate_key_spec("a1"),
    "DATABASE_URL": "sqlite:///:memory:",
}


def start(env_overrides: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIERSPAYANT_")}
    env.update(GOOD)
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env["DJANGO_SETTINGS_MODULE"] = "tierspayant.settings"
    # Start the code under test (this checkout's src/), not whatever the venv's install points at.
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1] / "src")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_good_configuration_starts() -> None:
    assert start({}).returncode == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"TIERSPAYANT_SECRET_KEY": None}, "TIERSPAYANT_SECRET_KEY is not set"),
        ({"TIERSPAYANT_SECRET_KEY": "short"}, "TIERSPAYANT_SECRET_KEY is too weak"),
        ({"TIERSPAYANT_SECRET_KEY": "django-insecure-" + "x1y2z3" * 10}, "too weak"),
        ({"TIERSPAYANT_FIELD_KEYS": None}, "TIERSPAYANT_FIELD_KEYS is not set"),
        ({"TIERSPAYANT_INDEX_KEYS": None}, "TIERSPAYANT_INDEX_KEYS is not set"),
        ({"TIERSPAYANT_AUDIT_SIGNING_KEYS": None}, "TIERSPAYANT_AUDIT_SIGNING_KEYS is not set"),
        ({"TIERSPAYANT_FIELD_KEYS": "k1:AAAA"}, "TIERSPAYANT_FIELD_KEYS, key 'k1': 3 bytes"),
        ({"TIERSPAYANT_INDEX_KEYS": GOOD["TIERSPAYANT_FIELD_KEYS"]}, "share a key"),
        ({"TIERSPAYANT_DEMO": "perhaps"}, "TIERSPAYANT_DEMO: expected true or false"),
        ({"TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA": "-3"}, "must be positive"),
        (
            {"TIERSPAYANT_HISTORY_STAFF_HOURLY_QUOTA": "0"},
            "TIERSPAYANT_HISTORY_STAFF_HOURLY_QUOTA: must be positive",
        ),
        (
            {"TIERSPAYANT_HISTORY_STAFF_DAILY_QUOTA": "many"},
            "TIERSPAYANT_HISTORY_STAFF_DAILY_QUOTA: expected a whole number",
        ),
    ],
    ids=[
        "no-secret",
        "short-secret",
        "django-insecure",
        "no-field-keys",
        "no-index-keys",
        "no-audit-signing-keys",
        "short-field-key",
        "same-key-twice",
        "bad-bool",
        "negative-quota",
        "zero-staff-history-quota",
        "word-staff-history-quota",
    ],
)
def test_missing_or_weak_configuration_refuses_to_start(
    overrides: dict[str, str | None], message: str
) -> None:
    result = start(overrides)
    assert result.returncode != 0
    assert message in result.stderr
    for secret in GOOD.values():
        assert secret.split(":")[-1] not in result.stderr or secret.endswith(":memory:")


def test_key_file_variant_is_read(tmp_path) -> None:
    path = tmp_path / "field.key"
    path.write_text(GOOD["TIERSPAYANT_FIELD_KEYS"])
    assert (
        start({"TIERSPAYANT_FIELD_KEYS": None, "TIERSPAYANT_FIELD_KEYS_FILE": str(path)}).returncode
        == 0
    )
