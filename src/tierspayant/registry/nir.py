"""NIR (numéro d'inscription au répertoire) normalisation and validation.

Rules (REFERENCE.md, "Identifiers"; python-stdnum ``stdnum.fr.nir``): 13 characters plus a
2-digit key = 97 - (N mod 97); Corsica writes its department 2A/2B at positions 6-7 only,
counted as 19/18 before the key is computed; department 99 means born abroad. The first
character is the sex code: 1 or 2, or 7 or 8 for a temporary number (NIA).
"""

from __future__ import annotations

from stdnum import exceptions as stdnum_errors
from stdnum.fr import nir as stdnum_nir


class InvalidNIR(ValueError):
    """A NIR fails its format or key check. The message names the problem, never the number."""


def normalize_nir(raw: str) -> str:
    """Return the 15-character NIR (upper case, no spaces or dots) or raise :class:`InvalidNIR`.

    Accepts spaces and dots as separators. A 13-character number without key is refused:
    the key is what catches a mistyped digit at the counter.
    """
    compact = stdnum_nir.compact(raw or "")
    if not compact:
        raise InvalidNIR("le NIR est obligatoire")
    if len(compact) == 13:
        raise InvalidNIR("le NIR doit comporter 15 caractères, clé comprise")
    try:
        value = stdnum_nir.validate(compact)
    except stdnum_errors.InvalidLength:
        raise InvalidNIR("le NIR doit comporter 15 caractères, clé comprise") from None
    except stdnum_errors.InvalidFormat:
        raise InvalidNIR(
            "format de NIR invalide (chiffres, et 2A/2B seulement en positions 6-7)"
        ) from None
    except stdnum_errors.InvalidChecksum:
        raise InvalidNIR("clé de contrôle du NIR incorrecte") from None
    if value[0] not in "1278":
        raise InvalidNIR("le premier chiffre du NIR (sexe) doit être 1, 2, 7 ou 8")
    return value


def mask_nir(nir: str) -> str:
    """A display form that shows only the sex digit and the key: ``"1 ** ** ** *** *** 43"``."""
    return f"{nir[0]} ** ** ** *** *** {nir[-2:]}" if len(nir) == 15 else "***"
