"""Django settings, read only from the environment through the small typed helpers below.

Variables (each secret also accepts ``NAME_FILE``, a path whose content is the value):

- ``TIERSPAYANT_SECRET_KEY`` (required, >= 50 characters, not Django's insecure default)
- ``TIERSPAYANT_FIELD_KEYS`` (required): AES-256-GCM keys, ``"id:BASE64[,id:BASE64]"``, active first
- ``TIERSPAYANT_INDEX_KEYS`` (required): HMAC-SHA256 blind-index keys, same format
- ``DATABASE_URL`` (default ``sqlite:///var/tierspayant.sqlite3``)
- ``REDIS_URL`` (optional): shared quota counters; memory counters when unset
- ``TIERSPAYANT_DEMO`` (bool): plain-HTTP demo on 127.0.0.1 (cookies without ``Secure``)
- ``TIERSPAYANT_DEBUG`` (bool), ``TIERSPAYANT_ALLOWED_HOSTS`` (comma-separated)
- ``TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA`` (int, default 150 per professional per day)
- ``TIERSPAYANT_API_TOKEN_DAYS`` (int, default 90)
- ``TIERSPAYANT_HISTORY_READ_HOURLY_QUOTA`` / ``_DAILY_QUOTA`` (int, default 1,000 / 10,000):
  reads of members' access histories per insurer (FHIR ``AuditEvent`` search);
  ``TIERSPAYANT_HISTORY_LINK_HOURLY_QUOTA`` / ``_DAILY_QUOTA`` (30 / 100): views of one
  person's history page through their signed link;
  ``TIERSPAYANT_HISTORY_STAFF_HOURLY_QUOTA`` / ``_DAILY_QUOTA`` (60 / 300): access histories
  read in the back-office, per staff member (search by NIR and birth date, or by member)
- ``TIERSPAYANT_GUARD_POLICY`` (JSON, optional): quotas, detector floors, responses by
  severity, over the defaults of ``guard/policy.py`` (docs/guard.md); a bad one refuses to start
- ``TIERSPAYANT_SECURITY_EMAILS`` (comma-separated): who the guard alerts
- ``TIERSPAYANT_EMAIL_BACKEND`` (default: console in the demo, SMTP otherwise),
  ``TIERSPAYANT_FROM_EMAIL``
- Sign-in security (docs/security.md): ``TIERSPAYANT_WEBAUTHN_RP_ID`` (default ``localhost``),
  ``TIERSPAYANT_WEBAUTHN_ORIGINS`` (comma-separated, default ``http://localhost:8000``),
  ``TIERSPAYANT_SESSION_IDLE_SECONDS`` (900), ``TIERSPAYANT_SESSION_ABSOLUTE_SECONDS``
  (43200), ``TIERSPAYANT_STEP_UP_SECONDS`` (300), ``TIERSPAYANT_TRUSTED_PROXY_IPS``
  (comma-separated; empty: no proxy header is read), ``TIERSPAYANT_LOGIN_COOLOFF_MAX_MINUTES``
  (1440), ``TIERSPAYANT_HTTPS_PROXY_HEADER`` (bool: trust ``X-Forwarded-Proto`` from the
  proxy), ``TIERSPAYANT_SSL_REDIRECT`` (bool, default on outside the demo)
- Pro Santé Connect (optional): ``TIERSPAYANT_PSC_ISSUER``, ``TIERSPAYANT_PSC_CLIENT_ID``,
  ``TIERSPAYANT_PSC_CLIENT_SECRET`` (also ``_FILE``), ``TIERSPAYANT_PSC_ACR_VALUES``
  (default ``eidas1``), ``TIERSPAYANT_PSC_SCOPE`` (default ``openid scope_all``)

A missing or weak key refuses to start with a message naming the variable (never its value).
``make demo`` writes demo keys to ``var/demo.env``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from tierspayant.crypto.keys import KeyConfigurationError, Keyring, parse_key_spec

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("TIERSPAYANT_VAR_DIR", PROJECT_DIR / "var"))


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable ``name``, or the content of the file named by ``name_FILE``, or ``default``."""
    if name in os.environ:
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE: cannot read {path} ({exc.strerror})."
            ) from None
    return default


def env_bool(name: str, default: bool = False) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); raises ImproperlyConfigured otherwise."""
    raw = env_str(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}: expected true or false, got {raw!r}.")


def env_int(name: str, default: int) -> int:
    """A positive integer; raises ImproperlyConfigured naming the variable otherwise."""
    raw = env_str(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a whole number, got {raw!r}.") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name}: must be positive, got {value}.")
    return value


def env_required_secret(name: str) -> str:
    """A secret that must be set; the message says how to provide it, never a value."""
    value = env_str(name)
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Set it (or {name}_FILE) in the environment; "
            "for a local demo run `make demo`, which generates keys in var/demo.env."
        )
    return value


def _secret_key() -> str:
    value = env_required_secret("TIERSPAYANT_SECRET_KEY")
    if len(value) < 50 or len(set(value)) < 10 or value.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "TIERSPAYANT_SECRET_KEY is too weak: use at least 50 random characters."
        )
    return value


def _keyring() -> Keyring:
    try:
        return Keyring(
            encryption=parse_key_spec(
                env_required_secret("TIERSPAYANT_FIELD_KEYS"), name="TIERSPAYANT_FIELD_KEYS"
            ),
            index=parse_key_spec(
                env_required_secret("TIERSPAYANT_INDEX_KEYS"), name="TIERSPAYANT_INDEX_KEYS"
            ),
        )
    except KeyConfigurationError as exc:
        raise ImproperlyConfigured(str(exc)) from None


SECRET_KEY = _secret_key()
TIERSPAYANT_KEYRING = _keyring()
if set(TIERSPAYANT_KEYRING.encryption.keys.values()) & set(TIERSPAYANT_KEYRING.index.keys.values()):
    raise ImproperlyConfigured(
        "TIERSPAYANT_FIELD_KEYS and TIERSPAYANT_INDEX_KEYS share a key: each needs its own."
    )

DEMO = env_bool("TIERSPAYANT_DEMO")
DEBUG = env_bool("TIERSPAYANT_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in (env_str("TIERSPAYANT_ALLOWED_HOSTS", "127.0.0.1,localhost") or "").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "axes",
    "tierspayant.accounts",
    "tierspayant.prosanteconnect",
    "tierspayant.registry",
    "tierspayant.providers",
    "tierspayant.audit",
    "tierspayant.guard",
    "tierspayant.eligibility",
    "tierspayant.calculations",
    "tierspayant.attestations",
    "tierspayant.priorauth",
    "tierspayant.claims",
    "tierspayant.invoices",
    "tierspayant.payments",
    "tierspayant.corrections",
    "tierspayant.returns",
    "tierspayant.settlement",
    "tierspayant.api",
    "tierspayant.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every path: size, JSON depth and control characters refused before any view (4xx).
    "tierspayant.request_limits.InputLimitsMiddleware",
    # /api/ and /fhir/ (bearer tokens, no cookies) leave here for TIERSPAYANT_API_MIDDLEWARE.
    "tierspayant.api.middleware.ApiPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tierspayant.portal.middleware.GuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tierspayant.portal.sessions_security.SessionSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "tierspayant.portal.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]
# The token-authenticated interfaces' path (api/middleware.py): the response headers only.
TIERSPAYANT_API_MIDDLEWARE = [
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "tierspayant.portal.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "tierspayant.urls"
WSGI_APPLICATION = "tierspayant.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_DATABASE_URL = env_str("DATABASE_URL")
if not _DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default lives under var/
DATABASES = {
    "default": dj_database_url.parse(
        _DATABASE_URL or f"sqlite:///{VAR_DIR / 'tierspayant.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg prepares nothing while this is None (Django's default). Set this high, the ORM's
    # queries are still never prepared (they bind client-side); the rights check's own
    # statements ask to be prepared (tierspayant.hot_sql: planning them cost more than running
    # them). Behind PgBouncer in transaction mode: 1.21+ with max_prepared_statements.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 1_000_000_000
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL") or None
# Quota counters: the `limits` storage URI (atomic increments on Redis; memory otherwise).
TIERSPAYANT_QUOTA_STORAGE_URI = REDIS_URL or "memory://"
TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA = env_int("TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA", 150)
# Lots of invoices are adjudicated by Celery workers (docs/invoices.md, « Traitement »):
# TIERSPAYANT_CELERY_BROKER_URL (default REDIS_URL); TIERSPAYANT_CELERY_EAGER runs tasks in
# the caller instead (default: on without a broker, and in the demo).
CELERY_BROKER_URL = env_str("TIERSPAYANT_CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "TIERSPAYANT_CELERY_EAGER", CELERY_BROKER_URL == "memory://" or DEMO
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-lot leaves it to another
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
TIERSPAYANT_LOT_CHUNK_SIZE = env_int("TIERSPAYANT_LOT_CHUNK_SIZE", 500)
# Untrusted input (request_limits.py): the largest non-form body, in bytes, and the deepest
# JSON nesting accepted (FHIR Claims nest about 8 levels).
TIERSPAYANT_JSON_MAX_BYTES = env_int("TIERSPAYANT_JSON_MAX_BYTES", 1024 * 1024)
TIERSPAYANT_JSON_MAX_DEPTH = env_int("TIERSPAYANT_JSON_MAX_DEPTH", 64)
TIERSPAYANT_API_TOKEN_DAYS = env_int("TIERSPAYANT_API_TOKEN_DAYS", 90)
TIERSPAYANT_HISTORY_READ_HOURLY_QUOTA = env_int("TIERSPAYANT_HISTORY_READ_HOURLY_QUOTA", 1000)
TIERSPAYANT_HISTORY_READ_DAILY_QUOTA = env_int("TIERSPAYANT_HISTORY_READ_DAILY_QUOTA", 10000)
TIERSPAYANT_HISTORY_LINK_HOURLY_QUOTA = env_int("TIERSPAYANT_HISTORY_LINK_HOURLY_QUOTA", 30)
TIERSPAYANT_HISTORY_LINK_DAILY_QUOTA = env_int("TIERSPAYANT_HISTORY_LINK_DAILY_QUOTA", 100)
TIERSPAYANT_HISTORY_STAFF_HOURLY_QUOTA = env_int("TIERSPAYANT_HISTORY_STAFF_HOURLY_QUOTA", 60)
TIERSPAYANT_HISTORY_STAFF_DAILY_QUOTA = env_int("TIERSPAYANT_HISTORY_STAFF_DAILY_QUOTA", 300)

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Authentication: Argon2id first; axes counts failures before Django checks the password.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "tierspayant.accounts.passwords.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

AXES_FAILURE_LIMIT = env_int("TIERSPAYANT_LOGIN_FAILURE_LIMIT", 5)
# Cool-off doubles with each lockout of the day, capped: a lock always ends (accounts/throttling).
TIERSPAYANT_LOGIN_COOLOFF = timedelta(minutes=env_int("TIERSPAYANT_LOGIN_COOLOFF_MINUTES", 15))
TIERSPAYANT_LOGIN_COOLOFF_MAX = timedelta(
    minutes=env_int("TIERSPAYANT_LOGIN_COOLOFF_MAX_MINUTES", 24 * 60)
)
AXES_COOLOFF_TIME = "tierspayant.accounts.throttling.cool_off"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # hammering a lock must not extend it
AXES_USERNAME_CALLABLE = "tierspayant.accounts.throttling.axes_username"
AXES_CLIENT_IP_CALLABLE = "tierspayant.accounts.throttling.client_ip"
TIERSPAYANT_TRUSTED_PROXY_IPS = [
    ip.strip() for ip in (env_str("TIERSPAYANT_TRUSTED_PROXY_IPS") or "").split(",") if ip.strip()
]
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_TEMPLATE = "portal/locked.html"
# Off: axes's reset on success also wipes every failure from the client's address, whatever the
# username. A success forgives that username's failures only (accounts/throttling.py).
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False
AXES_CLIENT_STR_CALLABLE = "tierspayant.accounts.throttling.client_str"  # no username/IP in logs
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token", "token"]

OTP_TOTP_ISSUER = "tierspayant"
# Staff never see a TOTP secret or its QR code in the back-office: whoever copies it holds
# the professional's second factor (django-otp's admin then answers 403 on those views).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_RECOVERY_THROTTLE_FACTOR = 1

# Passkeys (django-otp-webauthn): a second factor only, bound to our RP id and origins.
OTP_WEBAUTHN_RP_ID = env_str("TIERSPAYANT_WEBAUTHN_RP_ID") or "localhost"
OTP_WEBAUTHN_RP_NAME = "tierspayant"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    o.strip()
    for o in (env_str("TIERSPAYANT_WEBAUTHN_ORIGINS") or "http://localhost:8000").split(",")
    if o.strip()
]
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = "django_otp_webauthn"

# Sessions: idle and absolute limits, step-up freshness (portal/sessions_security.py).
TIERSPAYANT_SESSION_IDLE_SECONDS = env_int("TIERSPAYANT_SESSION_IDLE_SECONDS", 15 * 60)
TIERSPAYANT_SESSION_ABSOLUTE_SECONDS = env_int("TIERSPAYANT_SESSION_ABSOLUTE_SECONDS", 12 * 3600)
TIERSPAYANT_STEP_UP_SECONDS = env_int("TIERSPAYANT_STEP_UP_SECONDS", 5 * 60)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEMO
CSRF_COOKIE_SECURE = not DEMO
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_SSL_REDIRECT = env_bool("TIERSPAYANT_SSL_REDIRECT", not DEMO)
SECURE_HSTS_SECONDS = 0 if DEMO else 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEMO
SECURE_HSTS_PRELOAD = not DEMO  # the header allows preloading; submitting is the operator's act
if env_bool("TIERSPAYANT_HTTPS_PROXY_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o for o in OTP_WEBAUTHN_ALLOWED_ORIGINS if o.startswith("https://")]
EMAIL_BACKEND = env_str("TIERSPAYANT_EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend"
    if DEMO
    else "django.core.mail.backends.smtp.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("TIERSPAYANT_FROM_EMAIL") or "securite@tierspayant.example"
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
    }
}

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
# Our French for the libraries' labels their own catalogues leave in English (first in line).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
# Production runs collectstatic into TIERSPAYANT_STATIC_ROOT; demo and tests serve from the apps.
STATIC_ROOT = env_str("TIERSPAYANT_STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # Request lines carry URLs only; personal data never travels in a URL here.
    "loggers": {"axes": {"level": "WARNING"}, "django_otp_webauthn": {"level": "WARNING"}},
}
WHITENOISE_USE_FINDERS = True  # serve app static files without a collectstatic step
# Base of the platform's own FHIR identifier and code systems (docs/fhir.md).
TIERSPAYANT_FHIR_BASE_URL: str = (
    env_str("TIERSPAYANT_FHIR_BASE_URL") or "https://tierspayant.example/fhir"
)

# attestations
# - TIERSPAYANT_SERVICE_BASE_URL (default https://tierspayant.example): the platform's public
#   address, written in the directory file practice software reads (docs/attestations.md).
TIERSPAYANT_SERVICE_BASE_URL: str = (
    env_str("TIERSPAYANT_SERVICE_BASE_URL") or "https://tierspayant.example"
)

# audit
# Disclosure-log tamper evidence, retention and access-history links (docs/audit.md).
# - TIERSPAYANT_AUDIT_SIGNING_KEYS (required, also _FILE): Ed25519 private keys given as 32-byte
#   seeds, "id:BASE64[,id:BASE64]", active first; older ones stay listed so the checkpoints
#   they signed still verify. Kept outside the database, like the field keys.
# - TIERSPAYANT_AUDIT_CHECKPOINT_DIR (default var/audit-checkpoints): the append-only store.
# - TIERSPAYANT_AUDIT_RETENTION_DAYS (365), TIERSPAYANT_AUDIT_LINK_DAYS (30: a beneficiary's
#   access-history link), TIERSPAYANT_AUDIT_TOKEN_DAYS (90: insurers' audit:read tokens).
from tierspayant.crypto.keys import KeySet  # noqa: E402 - kept with the audit settings


def _audit_signing_keys() -> KeySet:
    """The Ed25519 checkpoint-signing keys (32-byte seeds, ``id:BASE64``, active first)."""
    try:
        return parse_key_spec(
            env_required_secret("TIERSPAYANT_AUDIT_SIGNING_KEYS"),
            name="TIERSPAYANT_AUDIT_SIGNING_KEYS",
        )
    except KeyConfigurationError as exc:
        raise ImproperlyConfigured(str(exc)) from None


TIERSPAYANT_AUDIT_SIGNING_KEYS = _audit_signing_keys()
TIERSPAYANT_AUDIT_CHECKPOINT_DIR = Path(
    env_str("TIERSPAYANT_AUDIT_CHECKPOINT_DIR") or VAR_DIR / "audit-checkpoints"
)
TIERSPAYANT_AUDIT_RETENTION_DAYS = env_int("TIERSPAYANT_AUDIT_RETENTION_DAYS", 365)
TIERSPAYANT_AUDIT_LINK_DAYS = env_int("TIERSPAYANT_AUDIT_LINK_DAYS", 30)
TIERSPAYANT_AUDIT_TOKEN_DAYS = env_int("TIERSPAYANT_AUDIT_TOKEN_DAYS", 90)

# guard
# Quotas, detector thresholds and responses: configuration validated at start (a negative
# quota, an unknown profession, key or action refuses to start, naming the key).


def _guard_policy():  # type: ignore[no-untyped-def]
    import dataclasses

    from tierspayant.guard.policy import PolicyError, policy_from_json

    try:
        policy = policy_from_json(env_str("TIERSPAYANT_GUARD_POLICY"))
    except PolicyError as exc:
        raise ImproperlyConfigured(f"TIERSPAYANT_GUARD_POLICY: {exc}.") from None
    emails = tuple(
        e.strip() for e in (env_str("TIERSPAYANT_SECURITY_EMAILS") or "").split(",") if e.strip()
    )
    return dataclasses.replace(policy, security_emails=emails)


TIERSPAYANT_GUARD_POLICY = _guard_policy()

# care: approvals, claims, payments
# Prior approvals (PEC), claims and payment runs (docs/care.md); bank-detail changes
# (docs/adr/0007-bank-account-change.md).
# - TIERSPAYANT_APPROVAL_VALID_DAYS (183: about six months): validity of an approval.
# - TIERSPAYANT_APPROVAL_REVIEW_DAYS (2): days staff have to decide a degraded approval.
# - TIERSPAYANT_CLAIM_TOLERANCE (euros, "5.00"): how far an invoice may exceed its approval.
# - TIERSPAYANT_BANK_COOLING_OFF_HOURS (72): payments held after a bank-detail change.
# - TIERSPAYANT_BANK_CODE_MINUTES (30): validity of the emailed confirmation code.
# - TIERSPAYANT_SEPA_DEBTOR_NAME / _IBAN / _BIC: the operator's account paying the transfers
#   (demo defaults: a synthetic account); also the creditor account of the insurers' direct
#   debits (settlement).
# - TIERSPAYANT_SEPA_CREDITOR_ID: the operator's SEPA creditor identifier (ICS) in the
#   insurers' direct debits (pain.008; demo default: a synthetic one).
# - TIERSPAYANT_PAYMENTS_DIR (var/payments): where payment runs write SEPA files and statements.
# - TIERSPAYANT_GUARANTEE_TABLES_DIR (fixtures/guarantee-tables): contracts' guarantee tables.
from decimal import Decimal, InvalidOperation  # noqa: E402 - kept with the care settings


def env_euros(name: str, default: str) -> Decimal:
    """A non-negative amount in euros with at most two decimals (``"5.00"``)."""
    raw = env_str(name) or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"{name}: expected an amount such as 5.00, got {raw!r}."
        ) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ImproperlyConfigured(f"{name}: expected a non-negative amount in cents, got {raw!r}.")
    return value.quantize(Decimal("0.01"))


TIERSPAYANT_APPROVAL_VALID_DAYS = env_int("TIERSPAYANT_APPROVAL_VALID_DAYS", 183)
TIERSPAYANT_APPROVAL_REVIEW_DAYS = env_int("TIERSPAYANT_APPROVAL_REVIEW_DAYS", 2)
TIERSPAYANT_CLAIM_TOLERANCE = env_euros("TIERSPAYANT_CLAIM_TOLERANCE", "5.00")
TIERSPAYANT_BANK_COOLING_OFF_HOURS = env_int("TIERSPAYANT_BANK_COOLING_OFF_HOURS", 72)
TIERSPAYANT_BANK_CODE_MINUTES = env_int("TIERSPAYANT_BANK_CODE_MINUTES", 30)
TIERSPAYANT_SEPA_DEBTOR_NAME = env_str("TIERSPAYANT_SEPA_DEBTOR_NAME") or "Operateur tierspayant"
TIERSPAYANT_SEPA_DEBTOR_IBAN = (
    env_str("TIERSPAYANT_SEPA_DEBTOR_IBAN") or "FR7630004000031234567890143"
)
TIERSPAYANT_SEPA_DEBTOR_BIC = env_str("TIERSPAYANT_SEPA_DEBTOR_BIC") or "BNPAFRPP"
TIERSPAYANT_SEPA_CREDITOR_ID = env_str("TIERSPAYANT_SEPA_CREDITOR_ID") or "FR72ZZZ123456"
TIERSPAYANT_PAYMENTS_DIR = Path(env_str("TIERSPAYANT_PAYMENTS_DIR") or VAR_DIR / "payments")
TIERSPAYANT_GUARANTEE_TABLES_DIR = Path(
    env_str("TIERSPAYANT_GUARANTEE_TABLES_DIR") or PROJECT_DIR / "fixtures" / "guarantee-tables"
)
# invoices: the public nomenclatures (docs/invoices.md)
# - TIERSPAYANT_NOMENCLATURES_DIR (../shared/fixtures/nomenclatures beside the project):
#   where ``tierspayant load-nomenclatures`` reads the SNDS tables and the BDPM file.
TIERSPAYANT_NOMENCLATURES_DIR = Path(
    env_str("TIERSPAYANT_NOMENCLATURES_DIR")
    or PROJECT_DIR.parent / "shared" / "fixtures" / "nomenclatures"
)
PASSWORD_RESET_TIMEOUT = 3600  # seconds: a reset link is valid one hour, once

# Pro Santé Connect sign-in (docs/security.md, "Pro Santé Connect"); off unless an issuer is set:
# - TIERSPAYANT_PSC_ISSUER: the provider's issuer URL (production:
#   https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet); empty: no PSC button
# - TIERSPAYANT_PSC_CLIENT_ID, TIERSPAYANT_PSC_CLIENT_SECRET (also _FILE): from the ANS
# - TIERSPAYANT_PSC_ACR_VALUES (comma-separated, default eidas1): accepted levels, first requested
# - TIERSPAYANT_PSC_SCOPE (default "openid scope_all")
TIERSPAYANT_PSC_ISSUER = env_str("TIERSPAYANT_PSC_ISSUER") or ""
TIERSPAYANT_PSC_CLIENT_ID = env_str("TIERSPAYANT_PSC_CLIENT_ID") or ""
TIERSPAYANT_PSC_CLIENT_SECRET = env_str("TIERSPAYANT_PSC_CLIENT_SECRET") or ""
if TIERSPAYANT_PSC_ISSUER and not (TIERSPAYANT_PSC_CLIENT_ID and TIERSPAYANT_PSC_CLIENT_SECRET):
    raise ImproperlyConfigured(
        "TIERSPAYANT_PSC_ISSUER is set: set TIERSPAYANT_PSC_CLIENT_ID and "
        "TIERSPAYANT_PSC_CLIENT_SECRET (or TIERSPAYANT_PSC_CLIENT_SECRET_FILE) too."
    )
TIERSPAYANT_PSC_ACR_VALUES = tuple(
    v.strip() for v in (env_str("TIERSPAYANT_PSC_ACR_VALUES") or "eidas1").split(",") if v.strip()
)
TIERSPAYANT_PSC_SCOPE = env_str("TIERSPAYANT_PSC_SCOPE") or "openid scope_all"
