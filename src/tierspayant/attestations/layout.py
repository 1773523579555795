"""The attestation's layout, as data (docs/attestations.md).

The inter-AMC standard for the tiers payant attestation (its standard block and its 2D
code) could not be checked in public sources: the labels, the order of the fields, their
DataMatrix tags and the positions on the page below are this platform's, kept here so that
they can be aligned with the standard without touching the code. Positions are in
millimetres from the top left corner of an A4 page (portrait).
"""

from __future__ import annotations

from typing import NamedTuple


class BlockField(NamedTuple):
    """A field of the standard block: ``key`` (attribute of ``services.Block``), the label
    printed (always, even when the value is empty) and its tag in the DataMatrix."""

    key: str
    label: str
    tag: str


#: The standard block, in printed and encoded order.
BLOCK: tuple[BlockField, ...] = (
    BlockField("amc_number", "N° AMC", "AMC"),
    BlockField("convention_type", "Type de convention", "TC"),
    BlockField("routing_criterion", "Critère secondaire de routage", "CSR"),
    BlockField("member_number", "N° d'adhérent", "ADH"),
    BlockField("valid_from", "Validité du", "DEB"),
    BlockField("valid_to", "au", "FIN"),
)

#: DataMatrix content: ``PREFIX`` then ``TAG:value`` per block field, joined by ``SEPARATOR``
#: (values never hold ``|``: digits, letters, dates ``JJ/MM/AAAA``).
DATAMATRIX_PREFIX = "ATP1"
DATAMATRIX_SEPARATOR = "|"
DATAMATRIX_TAG_SEPARATOR = ":"
#: Printed dates (block and beneficiaries).
DATE_FORMAT = "%d/%m/%Y"

#: Short column headings of the domains (the beneficiaries' table), in ``Domain`` order.
DOMAIN_HEADINGS: dict[str, str] = {
    "pharmacy": "PHAR",
    "optical": "OPTI",
    "audio": "AUDI",
    "dental": "DENT",
    "hospital": "HOSP",
    "consultation": "CONS",
}
#: Printed in a domain's cell when the domain is open without a formula, or closed.
OPEN_WITHOUT_FORMULA = "TP"
CLOSED = "-"

TITLE = "Attestation de tiers payant {year}"
RESPONSIBLE_LABEL = "Contrat responsable"
RESPONSIBLE_VALUES = {True: "oui", False: "non"}
BENEFICIARY_COLUMNS = ("Nom", "Prénom", "Né(e) le", "Rang", "Validité")


class Page(NamedTuple):
    """Positions on the page (mm): (x, y) of the title, the insurer's name, the
    responsible-contract mark and the footer; the block's first line (x, y, line height);
    the DataMatrix (x, y, side); the beneficiaries' table (x, y, row height), its columns'
    widths and each domain column's width in characters (Courier 8 pt)."""

    title: tuple[float, float]
    insurer: tuple[float, float]
    block: tuple[float, float, float]
    datamatrix: tuple[float, float, float]
    responsible: tuple[float, float]
    table: tuple[float, float, float]
    table_columns: tuple[int, ...]
    domain_column: int
    footer: tuple[float, float]


PAGE = Page(
    title=(15.0, 20.0),
    insurer=(15.0, 28.0),
    block=(15.0, 40.0, 6.0),
    datamatrix=(150.0, 34.0, 40.0),
    responsible=(15.0, 82.0),
    table=(15.0, 96.0, 6.0),
    table_columns=(18, 16, 11, 5, 24),
    domain_column=5,
    footer=(15.0, 280.0),
)
#: Width of a character of Courier 8 pt, in mm (0.6 em).
COURIER_8_MM = 0.6 * 8 * 25.4 / 72

FOOTER = (
    "Présentez cette attestation avec votre carte Vitale. Le professionnel lit le code "
    "DataMatrix ou saisit les champs ci-dessus."
)
