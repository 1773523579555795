"""Controlled vocabularies of invoices: code systems, reference tables, reason codes."""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class CodeSystem(models.TextChoices):
    """The code system of an invoice line, and so the nomenclature its code is checked in."""

    CIP13 = "CIP13", "CIP13 (médicament, boîte)"
    UCD = "UCD", "UCD (médicament, unité commune de dispensation)"
    LPP = "LPP", "LPP (dispositif médical)"
    NGAP = "NGAP", "NGAP (lettre clé et coefficient)"
    CCAM = "CCAM", "CCAM (acte technique, dentaire, imagerie)"
    NABM = "NABM", "NABM (biologie)"
    HOSPITAL = "HOSPITAL", "Prestation hospitalière (forfait journalier, chambre)"


class ReferenceTableName(models.TextChoices):
    """The public nomenclatures loaded as reference data (docs/invoices.md lists each file
    and its source)."""

    IR_ASU_V = "IR_ASU_V", "Nature d'assurance"
    IR_EXO_V = "IR_EXO_V", "Motif d'exonération du ticket modérateur"
    IR_GRG_V = "IR_GRG_V", "Grand régime d'assurance maladie"
    IR_MTM_V = "IR_MTM_V", "Régime local (Alsace-Moselle...)"
    IR_SPE_V = "IR_SPE_V", "Spécialité des médecins (codes SESAM-Vitale)"
    IR_ACT_V = "IR_ACT_V", "Nature d'activité des autres professions (codes SESAM-Vitale)"
    IR_NAT_V = "IR_NAT_V", "Nature de prestation (lettres clés NGAP, prestations hospitalières)"
    IR_ACT_COD = "IR_ACT_COD", "Codes actes NGAP (DREES)"
    IR_TAU_V = "IR_TAU_V", "Taux de remboursement"
    IR_BIO_R = "IR_BIO_R", "Actes de biologie (NABM)"
    NT_LPP = "NT_LPP", "Liste des produits et prestations (LPP)"
    IR_CCAM_V63 = "IR_CCAM_V63", "Actes CCAM (version 63)"
    NU_UCD_R = "NU_UCD_R", "Unités communes de dispensation (UCD)"
    BDPM_CIP = "BDPM_CIP", "Présentations de médicaments (CIP13, taux, BDPM)"


class InvoiceStatus(models.TextChoices):
    """The invoice's current state, derived from its events (``invoices.lifecycle``; the
    column is a cache written with each event). accepted: every check passed and the AMC
    share was computed, waiting for payment; rejected: at least one reason code (never paid
    as it stands); paid: a payment run paid its AMC; cancelled: voided by the professional
    (after payment: an overpayment to recover); rectified: replaced by another invoice;
    disputed: the professional contests it, staff decide."""

    ACCEPTED = "accepted", "Acceptée"
    REJECTED = "rejected", "Rejetée"
    PAID = "paid", "Payée"
    CANCELLED = "cancelled", "Annulée"
    RECTIFIED = "rectified", "Rectifiée"
    DISPUTED = "disputed", "Contestée"


class InvoiceEventKind(models.TextChoices):
    """What happened to an invoice (issue 16 part 1). received/acknowledged: the lot or
    request that carried it; accepted/rejected: adjudication; paid: in a payment run
    (``reference``: the transfer's end-to-end id, ``value_date``: its execution date);
    payment_returned: the bank returned that transfer, the invoice waits for payment again;
    cancelled; rectified (``related``: the replacement); disputed (``deadline``: the last
    day staff may decide), dispute_upheld / dispute_dismissed (staff's decision);
    recovered: an overpayment on it was netted in a run (``reference``: the run);
    written_off: staff gave up recovering it (``reason``)."""

    RECEIVED = "received", "Reçue"
    ACKNOWLEDGED = "acknowledged", "Accusé de réception"
    ACCEPTED = "accepted", "Acceptée"
    REJECTED = "rejected", "Rejetée"
    PAID = "paid", "Payée"
    PAYMENT_RETURNED = "payment_returned", "Virement retourné"
    CANCELLED = "cancelled", "Annulée"
    RECTIFIED = "rectified", "Rectifiée"
    DISPUTED = "disputed", "Contestée"
    DISPUTE_UPHELD = "dispute_upheld", "Contestation acceptée"
    DISPUTE_DISMISSED = "dispute_dismissed", "Contestation rejetée"
    RECOVERED = "recovered", "Indu récupéré"
    WRITTEN_OFF = "written_off", "Indu abandonné"


class ActorKind(models.TextChoices):
    """Who made an event happen: the platform itself, the professional (or their
    software), operator or insurer staff, the bank (a return file)."""

    SYSTEM = "system", "Plateforme"
    PROFESSIONAL = "professional", "Professionnel de santé"
    STAFF = "staff", "Équipe de l'opérateur"
    INSURER = "insurer", "Organisme complémentaire"
    BANK = "bank", "Banque"


class InvoiceReason(StrEnum):
    """Why an invoice is rejected; each names the invoice, the line and the field."""

    EMPTY_INVOICE = "EMPTY_INVOICE"
    INVALID_VALUE = "INVALID_VALUE"
    CARE_PERIOD_INVALID = "CARE_PERIOD_INVALID"
    UNKNOWN_NATURE = "UNKNOWN_NATURE"
    UNKNOWN_EXEMPTION = "UNKNOWN_EXEMPTION"
    UNKNOWN_REGIME = "UNKNOWN_REGIME"
    UNKNOWN_LOCAL_REGIME = "UNKNOWN_LOCAL_REGIME"
    UNKNOWN_SPECIALTY = "UNKNOWN_SPECIALTY"
    UNKNOWN_CODE = "UNKNOWN_CODE"
    CODE_NOT_IN_FORCE = "CODE_NOT_IN_FORCE"
    CODE_NOT_ROUTED = "CODE_NOT_ROUTED"
    FAMILY_THROUGH_APPROVAL = "FAMILY_THROUGH_APPROVAL"
    CLASS_REQUIRED = "CLASS_REQUIRED"
    RATE_NOT_ALLOWED = "RATE_NOT_ALLOWED"
    AMO_ABOVE_BILLED = "AMO_ABOVE_BILLED"
    AMO_ABOVE_BR = "AMO_ABOVE_BR"
    BR_ABOVE_BILLED = "BR_ABOVE_BILLED"
    LINE_AMOUNT_MISMATCH = "LINE_AMOUNT_MISMATCH"
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    PRESCRIPTION_REQUIRED = "PRESCRIPTION_REQUIRED"
    PRESCRIBER_INVALID = "PRESCRIBER_INVALID"
    PRESCRIPTION_AFTER_CARE = "PRESCRIPTION_AFTER_CARE"
    FAMILY_NOT_ALLOWED = "FAMILY_NOT_ALLOWED"
    ENGAGEMENT_REFUSED = "ENGAGEMENT_REFUSED"

    @property
    def label(self) -> str:
        """French label shown to professionals (practice software, portal)."""
        return _LABELS[self]


_LABELS: dict[InvoiceReason, str] = {
    InvoiceReason.EMPTY_INVOICE: "la facture ne contient aucune ligne",
    InvoiceReason.INVALID_VALUE: "valeur invalide",
    InvoiceReason.CARE_PERIOD_INVALID: "la fin de la période de soins précède son début",
    InvoiceReason.UNKNOWN_NATURE: "nature d'assurance inconnue de la nomenclature (IR_ASU_V)",
    InvoiceReason.UNKNOWN_EXEMPTION: "motif d'exonération inconnu de la nomenclature (IR_EXO_V)",
    InvoiceReason.UNKNOWN_REGIME: "régime d'assurance maladie inconnu (IR_GRG_V)",
    InvoiceReason.UNKNOWN_LOCAL_REGIME: "régime local inconnu (IR_MTM_V)",
    InvoiceReason.UNKNOWN_SPECIALTY: (
        "spécialité du professionnel inconnue des codes SESAM-Vitale (IR_SPE_V, IR_ACT_V)"
    ),
    InvoiceReason.UNKNOWN_CODE: "code inconnu de la nomenclature de son système de codage",
    InvoiceReason.CODE_NOT_IN_FORCE: "code non valide à la date des soins",
    InvoiceReason.CODE_NOT_ROUTED: "code sans famille de prestations connue de la plateforme",
    InvoiceReason.FAMILY_THROUGH_APPROVAL: (
        "optique et audioprothèses : facturer par la prise en charge (accord préalable)"
    ),
    InvoiceReason.CLASS_REQUIRED: "panier 100 % Santé, maîtrisé ou libre requis",
    InvoiceReason.RATE_NOT_ALLOWED: "taux AMO non autorisé pour ce code",
    InvoiceReason.AMO_ABOVE_BILLED: "montant AMO supérieur au montant facturé",
    InvoiceReason.AMO_ABOVE_BR: (
        "montant AMO augmenté des participations et franchises supérieur à la base de remboursement"
    ),
    InvoiceReason.BR_ABOVE_BILLED: "base de remboursement supérieure au montant facturé",
    InvoiceReason.LINE_AMOUNT_MISMATCH: "montant facturé différent de quantité × prix unitaire",
    InvoiceReason.TOTAL_MISMATCH: "total de la facture différent de la somme des lignes",
    InvoiceReason.PRESCRIPTION_REQUIRED: "prescripteur (RPPS) et date de prescription requis",
    InvoiceReason.PRESCRIBER_INVALID: "numéro RPPS du prescripteur invalide (11 chiffres, clé)",
    InvoiceReason.PRESCRIPTION_AFTER_CARE: "date de prescription postérieure aux soins",
    InvoiceReason.FAMILY_NOT_ALLOWED: (
        "la profession du professionnel ne permet pas de facturer cette famille de prestations"
    ),
    InvoiceReason.ENGAGEMENT_REFUSED: "engagement de paiement refusé",
}


class LotFormat(models.TextChoices):
    """The layouts a lot can come in (one adapter each, ``invoices.lot_formats``)."""

    FHIR = "fhir", "FHIR R4 Bundle batch de Claim"
    JSONL = "jsonl", "Fichier plat JSON Lines"


class LotStatus(models.TextChoices):
    """received: stored and acknowledged; processing: a worker adjudicates it; done: every
    invoice has its result."""

    RECEIVED = "received", "Reçu"
    PROCESSING = "processing", "En cours de traitement"
    DONE = "done", "Traité"


class EntryStatus(models.TextChoices):
    """An invoice of a lot: pending until a worker reaches it, then accepted or rejected."""

    PENDING = "pending", "En attente"
    ACCEPTED = "accepted", "Acceptée"
    REJECTED = "rejected", "Rejetée"


class LotRefusal(StrEnum):
    """Why a whole lot is refused (nothing stored)."""

    UNREADABLE = "LOT_UNREADABLE"
    TRUNCATED = "LOT_TRUNCATED"
    EMPTY = "LOT_EMPTY"
    TOO_LARGE = "LOT_TOO_LARGE"
    COUNT_MISMATCH = "LOT_COUNT_MISMATCH"
    TOTAL_MISMATCH = "LOT_TOTAL_MISMATCH"
    DUPLICATE_IN_LOT = "LOT_DUPLICATE_INVOICE_NUMBER"


class LotReason(StrEnum):
    """Why one invoice of a lot is rejected beyond the invoice's own checks
    (``InvoiceReason``): its beneficiary as identified through the rights check, and
    duplicates across lots and the claim API."""

    BENEFICIARY_UNKNOWN = "BENEFICIARY_UNKNOWN"
    RANG_REQUIRED = "RANG_REQUIRED"
    INVALID_IDENTITY = "INVALID_IDENTITY"
    NO_RIGHTS_ON_DATE = "NO_RIGHTS_ON_DATE"
    IDENTIFICATION_REFUSED = "IDENTIFICATION_REFUSED"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"
    GUARANTEE_TABLE_MISSING = "GUARANTEE_TABLE_MISSING"

    @property
    def label(self) -> str:
        """French label shown to professionals."""
        return _LOT_LABELS[self]


_LOT_LABELS: dict[LotReason, str] = {
    LotReason.BENEFICIARY_UNKNOWN: (
        "aucun bénéficiaire ne correspond au NIR, à la date de naissance et à l'organisme "
        "de la carte"
    ),
    LotReason.RANG_REQUIRED: "plusieurs bénéficiaires partagent ce NIR et cette date : rang requis",
    LotReason.INVALID_IDENTITY: "identité du patient invalide",
    LotReason.NO_RIGHTS_ON_DATE: "pas de droits ouverts à la date des soins",
    LotReason.IDENTIFICATION_REFUSED: "identification du patient refusée par le contrôle d'accès",
    LotReason.DUPLICATE_INVOICE: (
        "facture déjà reçue (même numéro, ou mêmes patient, date, codes et montants), "
        "dans un lot ou par l'API de facturation"
    ),
    LotReason.GUARANTEE_TABLE_MISSING: "tableau de garanties du contrat indisponible",
}
