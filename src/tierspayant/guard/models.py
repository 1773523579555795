"""The guard's state: per-account state and baseline, daily activity, alerts, suspensions,
lockdown. None of these rows holds personal data of a beneficiary: evidence is counts,
thresholds, windows and ids."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tierspayant.guard.choices import Action, AlertKind, AlertStatus, LockdownLevel, Severity
from tierspayant.guard.evidence import describe_evidence


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
        verbose_name="professionnel de santé",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="guard",
    )
    suspended = models.BooleanField("suspendu", default=False)
    suspended_at = models.DateTimeField("suspendu le", null=True, blank=True)
    step_up_required_since = models.DateTimeField(
        "second facteur exigé depuis", null=True, blank=True
    )
    slowed_until = models.DateTimeField("ralenti jusqu'au", null=True, blank=True)
    sessions_revoked_at = models.DateTimeField("sessions révoquées le", null=True, blank=True)
    must_change_password = models.BooleanField("changement de mot de passe exigé", default=False)
    baseline_days = models.PositiveSmallIntegerField("jours d'historique", default=0)
    day_median = models.FloatField("vérifications par jour (médiane)", default=0)
    day_mad = models.FloatField("vérifications par jour (écart absolu médian)", default=0)
    hour_median = models.FloatField("vérifications de l'heure la plus chargée (médiane)", default=0)
    hour_mad = models.FloatField(
        "vérifications de l'heure la plus chargée (écart absolu médian)", default=0
    )
    usual_first_hour = models.PositiveSmallIntegerField(
        "première heure habituelle", null=True, blank=True
    )
    usual_last_hour = models.PositiveSmallIntegerField(
        "dernière heure habituelle", null=True, blank=True
    )
    baseline_updated_at = models.DateTimeField("référence mise à jour le", null=True, blank=True)

    class Meta:
        verbose_name = "état de garde d'un compte"
        verbose_name_plural = "états de garde des comptes"

    def __str__(self) -> str:
        return f"garde du professionnel {self.professional_id}"


class ActivityDay(models.Model):
    """One professional's rights checks on one local day, rolled up from the disclosure log:
    ``lookups`` (all calls), ``no_match`` (no match or invalid), ``distinct_beneficiaries``,
    ``peak_hour_lookups`` (busiest clock hour), ``first_hour``/``last_hour`` (local, 0-23),
    ``matched`` (rights checks and CLC that disclosed something) and ``followed`` (those
    followed by an approval, a claim or a lot's invoice within the policy's window). A lot's
    invoices are not lookups: they count in neither."""

    professional = models.ForeignKey(
        "providers.Professional",
        verbose_name="professionnel de santé",
        on_delete=models.CASCADE,
        related_name="+",
    )
    day = models.DateField("jour")
    lookups = models.PositiveIntegerField("vérifications", default=0)
    no_match = models.PositiveIntegerField("sans correspondance", default=0)
    distinct_beneficiaries = models.PositiveIntegerField("bénéficiaires distincts", default=0)
    peak_hour_lookups = models.PositiveIntegerField(
        "vérifications de l'heure la plus chargée", default=0
    )
    first_hour = models.PositiveSmallIntegerField("première heure", null=True, blank=True)
    last_hour = models.PositiveSmallIntegerField("dernière heure", null=True, blank=True)
    matched = models.PositiveIntegerField("vérifications ayant trouvé le bénéficiaire", default=0)
    followed = models.PositiveIntegerField("vérifications suivies d'un acte", default=0)

    class Meta:
        verbose_name = "activité quotidienne"
        verbose_name_plural = "activités quotidiennes"
        constraints = [
            models.UniqueConstraint(fields=["professional", "day"], name="activity_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.professional_id} {self.day}: {self.lookups}"


class Alert(models.Model):
    """A finding: ``kind``, ``severity``, the ``action`` the policy took, the account
    (None for a platform-wide finding), the channel, and ``evidence`` (counts, thresholds,
    windows, ids; never a NIR, name or birth date)."""

    raised_at = models.DateTimeField("levée le", db_index=True)
    kind = models.CharField("type", max_length=24, choices=AlertKind.choices)
    severity = models.CharField("gravité", max_length=10, choices=Severity.choices)
    action = models.CharField("réponse", max_length=12, choices=Action.choices)
    professional = models.ForeignKey(
        "providers.Professional",
        verbose_name="professionnel de santé",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField("canal", max_length=10, blank=True, default="")
    evidence = models.JSONField("preuves", default=dict)
    status = models.CharField(
        "statut", max_length=8, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    closed_at = models.DateTimeField("traitée le", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="traitée par",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "alerte de sécurité"
        verbose_name_plural = "alertes de sécurité"
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["professional", "raised_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()})"

    def evidence_text(self) -> str:
        """The evidence as one French sentence with its figures (``guard.evidence``)."""
        return describe_evidence(self.kind, self.evidence)


def suspension_reason_label(reason: str) -> str:
    """The French label of a suspension's ``reason`` (an alert kind, else ``manual``)."""
    if reason in AlertKind.values:
        return str(AlertKind(reason).label)
    return "décision de l'équipe sécurité"


class Suspension(models.Model):
    """One suspension of an account: why (``reason``: an alert kind or ``manual``), the
    alert that caused it, when; and, once lifted by staff, by whom, when and why."""

    professional = models.ForeignKey(
        "providers.Professional",
        verbose_name="professionnel de santé",
        on_delete=models.PROTECT,
        related_name="+",
    )
    alert = models.ForeignKey(
        Alert, verbose_name="alerte", null=True, blank=True, on_delete=models.PROTECT
    )
    reason = models.CharField("motif", max_length=24)
    suspended_at = models.DateTimeField("suspendu le")
    lifted_at = models.DateTimeField("levée le", null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="levée par",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lift_reason = models.TextField("motif de la levée", blank=True, default="")

    class Meta:
        verbose_name = "suspension"
        verbose_name_plural = "suspensions"
        ordering = ["-suspended_at"]

    def __str__(self) -> str:
        return f"suspension du professionnel {self.professional_id} ({self.reason_label()})"

    def reason_label(self) -> str:
        """Why, in French: the alert kind's label, or the security team's decision."""
        return suspension_reason_label(self.reason)


class LockdownState(models.Model):
    """The platform's lockdown switch (one row, id 1): its ``level`` (:class:`LockdownLevel`:
    open, restricted, full). ``active`` is True at any level but open (kept for readers of
    the old on/off switch). API and FHIR keep working at every level."""

    active = models.BooleanField("portail fermé", default=False)
    level = models.CharField(
        "niveau", max_length=10, choices=LockdownLevel.choices, default=LockdownLevel.OPEN
    )
    changed_at = models.DateTimeField("modifié le", null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="modifié par",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField("motif", blank=True, default="")

    class Meta:
        verbose_name = "confinement du portail"
        verbose_name_plural = "confinement du portail"
        permissions = [("toggle_lockdown", "Peut fermer et rouvrir le portail")]

    def __str__(self) -> str:
        return {
            LockdownLevel.FULL: "portail fermé",
            LockdownLevel.RESTRICTED: "portail en confinement restreint",
        }.get(LockdownLevel(self.level), "portail ouvert")


class LockdownEvent(models.Model):
    """History of lockdown switches: who, when, to which level (``active``: any level but
    open), why, from where (command/admin)."""

    at = models.DateTimeField("date et heure")
    active = models.BooleanField("portail fermé")
    level = models.CharField(
        "niveau", max_length=10, choices=LockdownLevel.choices, default=LockdownLevel.FULL
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField("origine", max_length=10)
    reason = models.TextField("motif")

    class Meta:
        verbose_name = "événement de confinement"
        verbose_name_plural = "événements de confinement"
        ordering = ["-at"]

    def __str__(self) -> str:
        what = {
            LockdownLevel.FULL: "portail fermé",
            LockdownLevel.RESTRICTED: "confinement restreint",
        }.get(LockdownLevel(self.level), "portail rouvert")
        return f"{self.at:%d/%m/%Y %H:%M} : {what}"
