"""Which family of the coverage engine a code belongs to, and which families each
profession may bill: the platform's own documented tables (docs/invoices.md), over the
codes of the public nomenclatures.

* CIP13 and UCD: medicines (``pharmacy``).
* LPP: by the LPP tree of ``NT_LPP`` (title II chapter 2 optics, chapter 3 hearing aids,
  both billed through prior approvals); any other LPP code is a ``medical_device``.
* NABM: ``lab_test``.
* CCAM: by the grouping of ``IR_CCAM_V63`` (``CCAM_GROUPS``).
* NGAP key letters and hospital items: by ``NGAP_KEYS`` (the key must also be in
  ``IR_NAT_V`` or ``IR_ACT_COD``).

Professions are SESAM-Vitale specialty codes: doctors' specialties (``IR_SPE_V``) and the
other professions' activity natures (``IR_ACT_V``); an establishment (FINESS, no
specialty code) bills as ``ESTABLISHMENT``.
"""

from __future__ import annotations

from tierspayant.coverage import Family

F = Family

#: CCAM grouping (``CAM_PRS_RGT``) -> family. Dental prostheses need a 100 % Santé basket.
CCAM_GROUPS: dict[str, Family] = {
    **dict.fromkeys(("ATM", "ACO", "ADA", "ADC", "ADE", "ADI"), F.TECHNICAL_ACT),
    **dict.fromkeys(("SDE", "END", "DEN", "AXI"), F.DENTAL_CARE),
    "TDS": F.ORTHODONTICS,
    **dict.fromkeys(
        (
            "BR1", "CM0", "CT0", "CT1", "CZ0", "CZ1", "IC0", "IC1", "ICO", "IMP", "IN1",
            "INO", "PA0", "PA1", "PAM", "PAR", "PDT", "PF0", "PF1", "PFC", "PFM", "PT0",
            "RA0", "RE1", "RF0", "RPN", "RS0", "SU0", "SU1",
        ),
        F.DENTAL_PROSTHESIS,
    ),
}  # fmt: skip

#: NGAP key letter or hospital item -> family.
NGAP_KEYS: dict[str, Family] = {
    **dict.fromkeys(("C", "CS", "G", "GS", "V", "VS", "VG", "APC", "CNP", "CA"), F.CONSULTATION),
    **dict.fromkeys(("K", "KC", "KE", "Z", "ZN"), F.TECHNICAL_ACT),
    **dict.fromkeys(
        ("AMI", "AIS", "AMX", "AMK", "AMC", "AMS", "AMO", "AMY", "AMP", "POD", "SF", "SFI"),
        F.PARAMEDICAL,
    ),
    "B": F.LAB_TEST,
    **dict.fromkeys(("FJ", "FJA", "FJR"), F.HOSPITAL_DAILY_FEE),
    "PJ": F.HOSPITAL_STAY,
    **dict.fromkeys(("CPC", "SHO"), F.HOSPITAL_ROOM),
}

#: LPP (title, chapter) billed through prior approvals, not invoices.
LPP_THROUGH_APPROVAL: dict[tuple[str, str], Family] = {
    ("2", "2"): F.OPTICAL_LENS,
    ("2", "3"): F.HEARING_AID,
}

#: Families that need a prescription (prescriber RPPS and date) on the invoice.
PRESCRIBED: frozenset[Family] = frozenset(
    {F.PHARMACY, F.LAB_TEST, F.PARAMEDICAL, F.MEDICAL_DEVICE, F.TRANSPORT}
)

ESTABLISHMENT = "ETAB"
_DOCTOR = frozenset({F.CONSULTATION, F.TECHNICAL_ACT})
_DENTIST = frozenset(
    {F.CONSULTATION, F.DENTAL_CARE, F.DENTAL_PROSTHESIS, F.ORTHODONTICS, F.TECHNICAL_ACT}
)
_LAB = frozenset({F.LAB_TEST})
_PHARMACY = frozenset({F.PHARMACY, F.MEDICAL_DEVICE})
_PARAMEDICAL = frozenset({F.PARAMEDICAL})
_SUPPLIER = frozenset({F.MEDICAL_DEVICE})

#: SESAM-Vitale specialty code -> families it may bill. Doctors' codes not listed here
#: (any other code of IR_SPE_V) bill consultations and technical acts.
SPECIALTY_FAMILIES: dict[str, frozenset[Family]] = {
    "36": _DENTIST,  # chirurgie dentaire, spécialiste ODF (IR_SPE_V)
    "38": _DOCTOR | _LAB,  # directeur de laboratoire médecin
    **dict.fromkeys(("19", "53", "54"), _DENTIST),  # chirurgiens-dentistes (IR_ACT_V)
    "21": frozenset({F.CONSULTATION, F.PARAMEDICAL, F.TECHNICAL_ACT}),  # sage-femme
    **dict.fromkeys(("24", "26", "27", "28", "29"), _PARAMEDICAL),  # infirmier, kiné...
    **dict.fromkeys(("30", "39", "40"), _LAB),  # laboratoires
    **dict.fromkeys(("50", "51", "52"), _PHARMACY),  # pharmacies
    **dict.fromkeys(("55", "56", "57"), frozenset({F.TRANSPORT})),  # transporteurs
    **dict.fromkeys(("60", "61", "62", "63", "66", "67", "68"), _SUPPLIER),  # fournisseurs
    "64": frozenset({F.OPTICAL_FRAME, F.OPTICAL_LENS, F.CONTACT_LENS, F.MEDICAL_DEVICE}),
    "65": frozenset({F.HEARING_AID, F.MEDICAL_DEVICE}),
    ESTABLISHMENT: frozenset(
        {
            F.HOSPITAL_STAY,
            F.HOSPITAL_DAILY_FEE,
            F.HOSPITAL_ROOM,
            F.CONSULTATION,
            F.TECHNICAL_ACT,
            F.LAB_TEST,
            F.PHARMACY,
            F.MEDICAL_DEVICE,
        }
    ),
}
#: Activity natures of IR_ACT_V that are not doctors (all IR_SPE_V codes are doctors).
NON_DOCTOR_TABLE = "IR_ACT_V"


def families_for(specialty: str, *, doctor: bool) -> frozenset[Family]:
    """Families a professional of SESAM-Vitale ``specialty`` may bill (``doctor``: the
    code is a doctor's specialty of IR_SPE_V). Unknown non-doctor codes bill nothing."""
    if specialty in SPECIALTY_FAMILIES:
        return SPECIALTY_FAMILIES[specialty]
    return _DOCTOR if doctor else frozenset()
