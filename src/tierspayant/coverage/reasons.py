"""Reason codes that explain a line's result, with their French labels.

The code is the stable identifier (portal, FHIR ClaimResponse adjudication reason,
remittance statements); the label is the user-facing French text.
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """Why a line's complementary share (AMC) is what it is."""

    NO_MATCHING_GUARANTEE = "NO_MATCHING_GUARANTEE"
    RENEWAL_PERIOD_NOT_REACHED = "RENEWAL_PERIOD_NOT_REACHED"
    LIMITED_TO_ACTUAL_COST = "LIMITED_TO_ACTUAL_COST"
    CEILING_EXHAUSTED = "CEILING_EXHAUSTED"
    COUNT_EXHAUSTED = "COUNT_EXHAUSTED"
    PRICE_ABOVE_REGULATED_LIMIT = "PRICE_ABOVE_REGULATED_LIMIT"
    FULL_COVER_100_SANTE = "FULL_COVER_100_SANTE"
    OPTICAL_EQUIPMENT_CAP = "OPTICAL_EQUIPMENT_CAP"
    OPTICAL_FRAME_CAP = "OPTICAL_FRAME_CAP"
    RESPONSIBLE_MINIMUM_APPLIED = "RESPONSIBLE_MINIMUM_APPLIED"
    HEARING_AID_CAP = "HEARING_AID_CAP"
    NON_OPTAM_EXCESS_CAP = "NON_OPTAM_EXCESS_CAP"
    NOT_COVERED_BY_RESPONSIBLE_CONTRACT = "NOT_COVERED_BY_RESPONSIBLE_CONTRACT"
    TICKET_MODERATEUR_COVERED = "TICKET_MODERATEUR_COVERED"
    DAILY_FEE_COVERED = "DAILY_FEE_COVERED"

    @property
    def label(self) -> str:
        """French label shown to professionals and beneficiaries."""
        return _LABELS[self]


_LABELS: dict[ReasonCode, str] = {
    ReasonCode.NO_MATCHING_GUARANTEE: "Aucune garantie du contrat ne couvre cet acte.",
    ReasonCode.RENEWAL_PERIOD_NOT_REACHED: (
        "Délai de renouvellement non atteint depuis le précédent équipement."
    ),
    ReasonCode.LIMITED_TO_ACTUAL_COST: (
        "Prise en charge limitée à la dépense réelle, après la part de l'Assurance Maladie."
    ),
    ReasonCode.CEILING_EXHAUSTED: "Plafond de la garantie atteint.",
    ReasonCode.COUNT_EXHAUSTED: "Nombre d'actes pris en charge atteint.",
    ReasonCode.PRICE_ABOVE_REGULATED_LIMIT: (
        "Prix facturé au-dessus du prix limite de vente réglementé : le dépassement reste à charge."
    ),
    ReasonCode.FULL_COVER_100_SANTE: (
        "Offre 100 % Santé : pas de reste à charge dans la limite du prix limite de vente."
    ),
    ReasonCode.OPTICAL_EQUIPMENT_CAP: (
        "Plafond du contrat responsable pour un équipement optique de classe B atteint."
    ),
    ReasonCode.OPTICAL_FRAME_CAP: (
        "Plafond du contrat responsable pour la monture de classe B (100 €) atteint."
    ),
    ReasonCode.RESPONSIBLE_MINIMUM_APPLIED: (
        "Minimum de prise en charge du contrat responsable appliqué à l'équipement optique."
    ),
    ReasonCode.HEARING_AID_CAP: (
        "Plafond du contrat responsable pour une aide auditive de classe II atteint."
    ),
    ReasonCode.NON_OPTAM_EXCESS_CAP: (
        "Dépassement d'honoraires d'un médecin non adhérent à l'OPTAM pris en charge "
        "dans la limite de 100 % de la base de remboursement."
    ),
    ReasonCode.NOT_COVERED_BY_RESPONSIBLE_CONTRACT: (
        "Participation forfaitaire et franchises médicales : jamais prises en charge "
        "par un contrat responsable."
    ),
    ReasonCode.TICKET_MODERATEUR_COVERED: (
        "Contrat responsable : le ticket modérateur est pris en charge en totalité."
    ),
    ReasonCode.DAILY_FEE_COVERED: (
        "Contrat responsable : forfait journalier hospitalier pris en charge sans limitation "
        "de durée."
    ),
}
