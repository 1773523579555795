"""Vocabularies of prior approvals, and the French label of any reason code shown to users.

Line-level reasons are the coverage engine's :class:`~tierspayant.coverage.ReasonCode`;
the codes below explain a whole approval or claim (rights, duplicates, approval matching).
"""

from __future__ import annotations

from django.db import models

from tierspayant.coverage import ReasonCode


class Decision(models.TextChoices):
    """The insurer's answer to a quote.

    accepted: every line gets the cover its guarantee gives; partial: the AMC pays something
    but at least one line is limited by a ceiling, a count, a renewal period or has no
    guarantee; refused: the AMC pays nothing (no rights on the date, or nothing covered);
    pending: the insurer reviews it first (a review rule of the contract, or a degraded
    answer when the decision could not be computed); staff then decide accepted, partial
    or refused, with a reason (``services.decide_pending``).
    """

    ACCEPTED = "accepted", "Accordée"
    PARTIAL = "partial", "Accordée partiellement"
    REFUSED = "refused", "Refusée"
    PENDING = "pending", "En attente d'examen"


class ApprovalKind(models.TextChoices):
    """estimate: computed and shown, binds nobody (no commitment, no invoice may use it);
    approval: binding, with its number and expiry."""

    ESTIMATE = "estimate", "Estimation (sans engagement)"
    APPROVAL = "approval", "Accord de prise en charge"


class ReviewReason(models.TextChoices):
    """Why an approval waits for the insurer's review."""

    AMOUNT_ABOVE = "amount_above", "Montant au-delà du seuil d'examen du contrat"
    SECOND_EQUIPMENT = (
        "second_equipment",
        "Deuxième équipement du même domaine dans la période d'examen du contrat",
    )
    TABLE_MISSING = (
        "table_missing",
        "Garanties du contrat indisponibles : décision calculée par un gestionnaire",
    )
    ENGINE_ERROR = (
        "engine_error",
        "Calcul impossible : décision prise par un gestionnaire",
    )


class ApprovalStatus(models.TextChoices):
    """Life of an approval: open (usable until it expires), used by one invoice, cancelled."""

    OPEN = "open", "En cours"
    USED = "used", "Utilisée"
    CANCELLED = "cancelled", "Annulée"


class CareReason(models.TextChoices):
    """Reasons that concern a whole approval or claim (never a bare number)."""

    NO_RIGHTS_ON_DATE = "NO_RIGHTS_ON_DATE", "Pas de droits ouverts à la date des soins."
    DOMAIN_NOT_OPEN = (
        "DOMAIN_NOT_OPEN",
        "Ce domaine de soins n'est pas ouvert au tiers payant sur le contrat.",
    )
    NOTHING_COVERED = "NOTHING_COVERED", "Aucune prise en charge complémentaire."
    DUPLICATE_CLAIM = (
        "DUPLICATE_CLAIM",
        "Facture en double : même patient, même date, mêmes actes et montants.",
    )
    APPROVAL_AMOUNT_EXCEEDED = (
        "APPROVAL_AMOUNT_EXCEEDED",
        "Montant facturé supérieur au montant accordé (tolérance comprise).",
    )
    APPROVAL_LINES_MISMATCH = (
        "APPROVAL_LINES_MISMATCH",
        "Les actes facturés ne correspondent pas à ceux de l'accord de prise en charge.",
    )
    APPROVAL_CAP = (
        "APPROVAL_CAP",
        "Part complémentaire limitée au montant de l'accord de prise en charge.",
    )
    UNDER_REVIEW = (
        "UNDER_REVIEW",
        "Demande transmise pour examen à l'organisme complémentaire : réponse avant l'échéance.",
    )
    DECIDED_BY_STAFF = (
        "DECIDED_BY_STAFF",
        "Décision prise par un gestionnaire de l'organisme complémentaire.",
    )


class CommitmentSource(models.TextChoices):
    """What holds a commitment on a beneficiary's ceilings and renewal periods."""

    APPROVAL = "approval", "Accord de prise en charge"
    CLAIM = "claim", "Facture"


def reason_label(code: str) -> str:
    """French label of a line reason (coverage engine) or a care reason; the code itself
    when unknown (never raises: labels are for display)."""
    if code in ReasonCode._value2member_map_:
        return ReasonCode(code).label
    if code in CareReason.values:
        return str(CareReason(code).label)
    return code
