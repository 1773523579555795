"""Professional and structure identifiers (REFERENCE.md, "Identifiers").

- RPPS: 11 digits with a Luhn key (python-stdnum ``luhn``).
- ADELI: 9 digits (its key is unconfirmed, so only the shape is checked).
- FINESS: 9 characters, 2A/2B possible at positions 1-2 for Corsica, Luhn key over the
  number with 2A/2B read as 20 (confirmed on published numbers for the digit-only form).
- SIRET: 14 digits, python-stdnum ``fr.siret`` (Luhn, La Poste exceptions).
"""

from __future__ import annotations

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fr import siret as stdnum_siret


class InvalidIdentifier(ValueError):
    """An identifier fails its format or key; the message names the identifier kind."""


def validate_rpps(value: str) -> str:
    """Return the 11-digit RPPS or raise :class:`InvalidIdentifier`."""
    value = value.strip()
    if len(value) != 11 or not value.isdigit():
        raise InvalidIdentifier("RPPS : 11 chiffres attendus")
    if not luhn.is_valid(value):
        raise InvalidIdentifier("RPPS : clé de Luhn incorrecte")
    return value


def validate_adeli(value: str) -> str:
    """Return the 9-digit ADELI number or raise :class:`InvalidIdentifier`."""
    value = value.strip()
    if len(value) != 9 or not value.isdigit():
        raise InvalidIdentifier("ADELI : 9 chiffres attendus")
    return value


def validate_finess(value: str) -> str:
    """Return the 9-character FINESS or raise :class:`InvalidIdentifier`."""
    value = value.strip().upper()
    digits = value[:2].replace("2A", "20").replace("2B", "20") + value[2:]
    if len(value) != 9 or not digits.isdigit():
        raise InvalidIdentifier("FINESS : 9 caractères attendus (2A/2B possibles en tête)")
    if not luhn.is_valid(digits):
        raise InvalidIdentifier("FINESS : clé de Luhn incorrecte")
    return value


def validate_siret(value: str) -> str:
    """Return the 14-digit SIRET or raise :class:`InvalidIdentifier`."""
    try:
        return str(stdnum_siret.validate(value))
    except ValidationError:
        raise InvalidIdentifier("SIRET : 14 chiffres avec clé de Luhn attendus") from None


def luhn_complete(prefix: str) -> str:
    """``prefix`` followed by its Luhn check digit (used to make synthetic RPPS numbers)."""
    return prefix + luhn.calc_check_digit(prefix)
