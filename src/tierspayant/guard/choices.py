"""Controlled vocabularies of the guard: alert kinds, severities, responses."""

from __future__ import annotations

from django.db import models


class Severity(models.TextChoices):
    """How bad a finding is; the policy maps each severity to an :class:`Action`."""

    LOW = "low", "Faible"
    MEDIUM = "medium", "Moyenne"
    HIGH = "high", "Élevée"
    CRITICAL = "critical", "Critique"

    @property
    def rank(self) -> int:
        """0 (low) to 3 (critical), for comparisons."""
        return list(Severity).index(self)


class Action(models.TextChoices):
    """What the guard does about a finding, weakest first."""

    ALERT = "alert", "Alerter l'équipe sécurité"
    SLOW_DOWN = "slow_down", "Ralentir le compte"
    STEP_UP = "step_up", "Exiger un second facteur récent"
    SUSPEND = "suspend", "Suspendre le compte"
    REVOKE_TOKEN = "revoke_token", "Révoquer le jeton d'API"

    @property
    def rank(self) -> int:
        """0 (alert) to 3 (suspend), for picking the strongest response on the account; a
        token's revocation (-1) touches the token only, never the account."""
        if self is Action.REVOKE_TOKEN:
            return -1
        return list(Action).index(self)


class AlertKind(models.TextChoices):
    """What a detector saw. Evidence never holds personal data (counts, thresholds, windows)."""

    QUOTA = "quota", "Quota dépassé"
    BURST = "burst", "Rafale de vérifications"
    VOLUME_HOUR = "volume_hour", "Volume horaire inhabituel"
    VOLUME_DAY = "volume_day", "Volume quotidien inhabituel"
    NO_MATCH_RATIO = "no_match_ratio", "Trop de réponses sans correspondance"
    NIR_PATTERN = "nir_pattern", "NIR séquentiels ou similaires"
    UNUSUAL_HOUR = "unusual_hour", "Activité à une heure inhabituelle"
    NEW_NETWORK = "new_network", "Nouvelle adresse IP"
    NEW_DEVICE = "new_device", "Nouveau navigateur ou logiciel"
    MANY_NETWORKS = "many_networks", "Nombreuses adresses IP"
    CONCURRENT_NETWORKS = "concurrent_networks", "Deux réseaux éloignés en même temps"
    SHARED_NETWORK = "shared_network", "Même adresse IP pour plusieurs cabinets"
    CANARY = "canary", "Bénéficiaire leurre consulté"
    CAMPAIGN = "campaign", "Campagne sur plusieurs comptes"
    LOW_FOLLOW_UP = "low_follow_up", "Vérifications rarement suivies d'un acte"
    TOKEN_NETWORKS = "token_networks", "Jeton d'API utilisé depuis trop de réseaux"
    TOKEN_FOREIGN_NETWORK = "token_foreign_network", "Jeton d'API utilisé hors du cabinet"
    ESCALATION = "escalation", "Alertes répétées dans la journée"


#: The severity each kind of finding carries.
KIND_SEVERITY: dict[AlertKind, Severity] = {
    AlertKind.QUOTA: Severity.LOW,
    AlertKind.BURST: Severity.HIGH,
    AlertKind.VOLUME_HOUR: Severity.MEDIUM,
    AlertKind.VOLUME_DAY: Severity.MEDIUM,
    AlertKind.NO_MATCH_RATIO: Severity.HIGH,
    AlertKind.NIR_PATTERN: Severity.HIGH,
    AlertKind.UNUSUAL_HOUR: Severity.LOW,
    AlertKind.NEW_NETWORK: Severity.LOW,
    AlertKind.NEW_DEVICE: Severity.LOW,
    AlertKind.MANY_NETWORKS: Severity.MEDIUM,
    AlertKind.CONCURRENT_NETWORKS: Severity.MEDIUM,
    AlertKind.SHARED_NETWORK: Severity.MEDIUM,
    AlertKind.CANARY: Severity.CRITICAL,
    AlertKind.CAMPAIGN: Severity.CRITICAL,
    AlertKind.LOW_FOLLOW_UP: Severity.MEDIUM,  # high from policy.follow_up_high_lookups
    AlertKind.TOKEN_NETWORKS: Severity.HIGH,
    AlertKind.TOKEN_FOREIGN_NETWORK: Severity.HIGH,
    AlertKind.ESCALATION: Severity.HIGH,
}


class AlertStatus(models.TextChoices):
    """Where the security team is with an alert."""

    OPEN = "open", "Ouverte"
    CLOSED = "closed", "Traitée"


class LockdownLevel(models.TextChoices):
    """How far the portal is closed (docs/security.md, "Lockdown levels"), weakest first.

    - ``open``: normal service;
    - ``restricted``: the portal stays open for prior approvals, invoices and statements to
      sessions signed in with a passkey or Pro Santé Connect; free-standing rights checks in
      the portal are closed, password + TOTP (or recovery code) sign-ins are refused and
      bank-detail changes are frozen;
    - ``full``: the whole portal is closed, sessions ended, a new password required.

    API, FHIR and lots (machine channels) keep working at every level.
    """

    OPEN = "open", "Ouvert"
    RESTRICTED = "restricted", "Confinement restreint (clé d'accès ou Pro Santé Connect)"
    FULL = "full", "Confinement total (portail fermé)"
