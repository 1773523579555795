"""The member file format (docs/member-file.md): UTF-8 CSV, ``;`` separator, one header row,
one line per beneficiary, no quoting (a field never holds ``;`` or a line break).

Values use the platform's codes (the same as the FHIR API): contract type ``individual`` /
``collective``, quality ``insured`` / ``spouse`` / ``child``, domains from
:class:`~tierspayant.registry.choices.Domain` joined by ``|``. Dates are ISO ``AAAA-MM-JJ``.
"""

from __future__ import annotations

SEPARATOR = ";"
DOMAIN_SEPARATOR = "|"
ENCODING = "utf-8"

#: Required columns, in the order the generator writes them (readers accept any order).
COLUMNS: tuple[str, ...] = (
    "numero_amc",
    "numero_contrat",
    "type_contrat",
    "nir",
    "rang",
    "nom",
    "prenom",
    "date_naissance",
    "qualite",
    "debut_droits",
    "fin_droits",
    "domaines",
)

#: Optional columns: ``responsable`` (``O``/``N``, default ``O``) is used only when a contract
#: is created from the file (``--create-contracts``).
OPTIONAL_COLUMNS: tuple[str, ...] = ("responsable",)

HEADER = SEPARATOR.join(COLUMNS)

#: Longest accepted values (the register's column sizes).
MAX_NAME = 100
MAX_CONTRACT_NUMBER = 40
