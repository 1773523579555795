"""The guard's state: per-account state and baseline, daily activity, alerts, suspensions,
lockdown. None of these rows holds personal data of a beneficiary: evidence is counts,
thresholds, windows and ids."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tierspayant.guard.choices import Action, AlertKind, AlertStatus, Severity


class AccountGuard(models.Model):
    """What the guard holds about one professional's account: its responses in force
    (suspension, step-up, slow-down, sessions revoked, password change required) and its
    baseline (robust statistics of its past days, refreshed by ``guard-baseline``).

    ``day_median``/``day_mad``: lookups per day; ``hour_median``/``hour_mad``: lookups in the
    busiest hour of a day; ``usual_first_hour``/``usual_last_hour``: local hours (0-23)
    between which the account usually works; ``baseline_days``: days of history used.
    """

    professional = models.OneToOneField(
        "providers.Professional",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="guard",
    )
    suspended = models.BooleanField("suspendu", default=False)
    suspended_at = models.DateTimeField(null=True, blank=True)
    step_up_required_since = models.DateTimeField(null=True, blank=True)
    slowed_until = models.DateTimeField(null=True, blank=True)
    sessions_revoked_at = models.DateTimeField(null=True, blank=True)
    must_change_password = models.BooleanField("changement de mot de passe exigé", default=False)
    baseline_days = models.PositiveSmallIntegerField(default=0)
    day_median = models.FloatField(default=0)
    day_mad = models.FloatField(default=0)
    hour_median = models.FloatField(default=0)
    hour_mad = models.FloatField(default=0)
    usual_first_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    usual_last_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "état de garde d'un compte"
        verbose_name_plural = "états de garde des comptes"

    def __str__(self) -> str:
        return f"garde du professionnel {self.professional_id}"


class ActivityDay(models.Model):
    """One professional's rights checks on one local day, rolled up from the disclosure log:
    ``lookups`` (all calls), ``no_match`` (no match or invalid), ``distinct_beneficiaries``,
    ``peak_hour_lookups`` (busiest clock hour), ``first_hour``/``last_hour`` (local, 0-23)."""

    professional = models.ForeignKey(
        "providers.Professional", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    lookups = models.PositiveIntegerField(default=0)
    no_match = models.PositiveIntegerField(default=0)
    distinct_beneficiaries = models.PositiveIntegerField(default=0)
    peak_hour_lookups = models.PositiveIntegerField(default=0)
    first_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    last_hour = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "activité quotidienne"
        constraints = [
            models.UniqueConstraint(fields=["professional", "day"], name="activity_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.professional_id} {self.day}: {self.lookups}"


class Alert(models.Model):
    """A finding: ``kind``, ``severity``, the ``action`` the policy took, the account
    (None for a platform-wide finding), the channel, and ``evidence`` (counts, thresholds,
    windows, ids; never a NIR, name or birth date)."""

    raised_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    action = models.CharField(max_length=12, choices=Action.choices)
    professional = models.ForeignKey(
        "providers.Professional",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(max_length=10, blank=True, default="")
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "alerte de sécurité"
        verbose_name_plural = "alertes de sécurité"
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["professional", "raised_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()})"


class Suspension(models.Model):
    """One suspension of an account: why (``reason``: an alert kind or ``manual``), the
    alert that caused it, when; and, once lifted by staff, by whom, when and why."""

    professional = models.ForeignKey(
        "providers.Professional", on_delete=models.PROTECT, related_name="+"
    )
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.CharField(max_length=24)
    suspended_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "suspension"
        ordering = ["-suspended_at"]

    def __str__(self) -> str:
        return f"suspension du professionnel {self.professional_id} ({self.reason})"


class LockdownState(models.Model):
    """The platform's lockdown switch (one row, id 1). While ``active`` the portal and
    human-facing rights checks are closed; API and FHIR keep working."""

    active = models.BooleanField(default=False)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "confinement du portail"
        verbose_name_plural = "confinement du portail"
        permissions = [("toggle_lockdown", "Peut fermer et rouvrir le portail")]

    def __str__(self) -> str:
        return "portail fermé" if self.active else "portail ouvert"


class LockdownEvent(models.Model):
    """History of lockdown switches: who, when, on or off, why, from where (command/admin)."""

    at = models.DateTimeField()
    active = models.BooleanField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=10)
    reason = models.TextField()

    class Meta:
        verbose_name = "événement de confinement"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {'on' if self.active else 'off'}"
