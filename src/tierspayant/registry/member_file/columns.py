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

#: Version 2 columns (docs/member-file.md): a file whose header holds any of them is a
#: version 2 file and must hold them all. Per line: the family's member number, the contract's
#: convention type and secondary routing criterion, the formulas per domain as printed on
#: the attestation, the AMO regime and fund, the tiers payant suspension flag.
V2_COLUMNS: tuple[str, ...] = (
    "numero_adherent",
    "type_convention",
    "critere_routage",
    "formules",
    "regime_amo",
    "caisse_amo",
    "suspension_tp",
)

HEADER = SEPARATOR.join(COLUMNS)
HEADER_V2 = SEPARATOR.join(COLUMNS + V2_COLUMNS)
#: Separator between a domain and its formula in ``formules`` (``pharmacy=100%|optical=OPT2``).
FORMULA_SEPARATOR = "="
MAX_ROUTING_CRITERION = 10

#: Longest accepted values (the register's column sizes).
MAX_NAME = 100
MAX_CONTRACT_NUMBER = 40
