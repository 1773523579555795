"""Argon2id with small cost parameters: same algorithm and code path, test-sized memory."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id, 1 iteration over 8 MiB (production: Django's defaults)."""

    time_cost = 1
    memory_cost = 8192
    parallelism = 1
