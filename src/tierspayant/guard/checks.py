"""System checks of the guard (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def counters_are_shared(app_configs: Any = None, **_: Any) -> list[Warning]:
    """``tierspayant.G001`` when the quota and detector counters live in each process's
    memory (``memory://``, no ``REDIS_URL``): every app-server process would then count
    apart, so a professional could make N times their quota across N workers and the
    detectors would see 1/N of an attack (docs/adr/0003-quota-storage.md)."""
    if str(settings.TIERSPAYANT_QUOTA_STORAGE_URI).startswith("memory://"):
        return [
            Warning(
                "Quota and detector counters are kept per process (memory://).",
                hint="Set REDIS_URL so that every app-server process shares them.",
                id="tierspayant.G001",
            )
        ]
    return []
