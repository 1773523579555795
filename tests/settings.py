"""Test settings: fixed synthetic keys (never used outside tests) and lowered thresholds.

Every control stays on (DESIGN.md, "Same controls in tests"): quotas, throttling and MFA
are the production ones, only their thresholds are smaller so tests reach them quickly.
"""

import os
import tempfile

os.environ.setdefault(
    "TIERSPAYANT_SECRET_KEY", "test-only-5bq9Zk2rXw7LmN4pT8vY1cF6hJ3dG0sA-not-a-production-secret"
)
os.environ.setdefault("TIERSPAYANT_FIELD_KEYS", "t1:Dq3JcWz1s0b6yqB8y4v1m2Y9n7K5lT3eR0pX6fA2gHk=")
os.environ.setdefault("TIERSPAYANT_INDEX_KEYS", "t1:Wm8Qe1vR5tY2uI9oP4aS7dF0gH3jK6lZ1xC5vB8nM2Q=")
os.environ.setdefault(
    "TIERSPAYANT_AUDIT_SIGNING_KEYS", "ta1:D7pgUxAeYyBHbbfm8HdSJGqGxI3Qq8gzMH0E3OJTGsw="
)
os.environ.setdefault("TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA", "20")
os.environ.setdefault("TIERSPAYANT_LOGIN_FAILURE_LIMIT", "3")

from tierspayant.settings import *  # noqa: F403

# Parallel runs against one PostgreSQL server each name their own test database.
if os.environ.get("TIERSPAYANT_TEST_DB"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TIERSPAYANT_TEST_DB"]}  # noqa: F405

# SQLite: a file, as the embedded default's var/tierspayant.sqlite3, not Django's shared-cache
# in-memory database, where two connections writing at once fail at once ("database table is
# locked") instead of waiting: the concurrency tests (tests/test_code_concurrency.py) need real
# connections that wait for each other. In /dev/shm when there is one (no disk writes); one
# file per run, so parallel runs on one machine never share it; Django deletes it at the end.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    _shm = "/dev/shm"  # noqa: S108  (a file named per process, deleted by Django at the end)
    _test_dir = _shm if os.path.isdir(_shm) else tempfile.gettempdir()
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(_test_dir, f"tierspayant-test-{os.getpid()}.sqlite3")
    }

PASSWORD_HASHERS = [
    # Argon2id as in production, with test-sized cost so the suite stays fast.
    "tests.hashers.FastArgon2PasswordHasher",
]

# TLS is terminated by the reverse proxy; the test client speaks plain HTTP, so the redirect
# to https is checked by its own test (test_http_hardening) instead of on every request.
SECURE_SSL_REDIRECT = False
# Passkeys in view-level tests: a fixed RP id and origin the software authenticator signs for.
OTP_WEBAUTHN_RP_ID = "portail.tierspayant.test"
OTP_WEBAUTHN_ALLOWED_ORIGINS = ["https://portail.tierspayant.test"]

# Lots of invoices: Celery tasks run in the caller (no worker in tests), small chunks so a
# test lot spans several.
CELERY_TASK_ALWAYS_EAGER = True
TIERSPAYANT_LOT_CHUNK_SIZE = 2
