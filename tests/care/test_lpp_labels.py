"""How a published LPP label is read (table-driven, labels as in snds_NT_LPP.csv):
kind, class, lens complexity (R871-2 CSS), band and age limits; and whether a correction
falls in a lens's band."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tierspayant.priorauth.catalogue import classify

LABELS = [
    # (code, label, chapter, LPP_MAX_AGE, kind, class, complexity, band, min age, max age)
    ("2222124", "OPTIQUE, MONTURE ADULTE DE CLASSE A", "2", "0", "frame", "A", None, "", 16, None),
    ("2254242", "OPTIQUE, MONTURE ENFANT DE CLASSE A", "2", "15", "frame", "A", None, "", None, 15),
    (
        "2201814",
        "OPTIQUE, VERRE UNIFOCAL CLASSE A, SPHERE] -4,00 A -6,00]",
        "2",
        "0",
        "lens",
        "A",
        "simple",
        "sphère [-6,00 ; -4,00[, cylindre [+0,00 ; +0,25[",
        None,
        None,
    ),
    (
        "2214840",
        "OPTIQUE, VERRE UNIFOCAL CLASSE A, SPHERE] -6,00 A -8,00]",
        "2",
        "0",
        "lens",
        "A",
        "complex",
        "sphère [-8,00 ; -6,00[, cylindre [+0,00 ; +0,25[",
        None,
        None,
    ),
    (
        "2210635",
        "OPTIQUE, VERRE PROGRESSIF CLASSE A, SPHERE] 0 A +2,00]",
        "2",
        "0",
        "lens",
        "A",
        "complex",
        "sphère ]+0,00 ; +2,00], cylindre [+0,00 ; +0,25[",
        None,
        None,
    ),
    (
        "2217376",
        "OPTIQUE, VERRE PROGRESSIF CLASSE A, SPHERE] +4,00 A +6,00]",
        "2",
        "0",
        "lens",
        "A",
        "very_complex",
        "sphère ]+4,00 ; +6,00], cylindre [+0,00 ; +0,25[",
        None,
        None,
    ),
    (
        "2208756",
        "OPTIQUE, VERRE UNIFOCAL CLASSE B, SPH [0 A - 2,00] ET CYL (+) [0,25 A 4,00]",
        "2",
        "0",
        "lens",
        "B",
        "simple",
        "sphère [-2,00 ; +0,00], cylindre [+0,25 ; +4,00]",
        None,
        None,
    ),
    (
        "2203871",
        "OPTIQUE, VERRE UNIFOCAL CLASSE A, SPH POSITIVE ET S ENTRE] +6,00 A +8,00]",
        "2",
        "0",
        "lens",
        "A",
        "complex",
        "sphère + cylindre ]+6,00 ; +8,00]",
        None,
        None,
    ),
    (
        "2212025",
        "OPTIQUE, VERRE MULTIFOCAL CLASSE B, SPHERE [0 A -2,00] ET CYLINDRE (+) >4",
        "2",
        "0",
        "lens",
        "B",
        "very_complex",
        "sphère [-2,00 ; +0,00], cylindre > +4,00",
        None,
        None,
    ),
    (
        "2263927",
        "OPTIQUE, VERRE NEUTRE DE CLASSE A",
        "2",
        "0",
        "lens",
        "A",
        "simple",
        "",
        None,
        None,
    ),
    (
        "2251545",
        "LENTILLE DE CONTACT, FORFAIT ANNUEL, PAR OEIL APPAREILLE",
        "2",
        "0",
        "contact_lens",
        "",
        None,
        "",
        None,
        None,
    ),
    (
        "2264223",
        "OPTIQUE, SUPPLEMENT POUR MONTURE (DE CLASSE A) DE LUNETTES A COQUE, < 6 ANS",
        "2",
        "5",
        "supplement",
        "",
        None,
        "",
        None,
        5,
    ),
    (
        "2226435",
        "OPTIQUE, PRESTATION ADAPTATION VERRES DE CLASSE A",
        "2",
        "0",
        "supplement",
        "",
        None,
        "",
        None,
        None,
    ),
    (
        "2325120",
        "AIDE AUDITIVE, CLASSE I, DROITE, <= A 20 ANS",
        "3",
        "0",
        "hearing_aid",
        "I",
        None,
        "",
        None,
        20,
    ),
    (
        "2341840",
        "AIDE AUDITIVE, CLASSE II, GAUCHE, > 20 ANS",
        "3",
        "0",
        "hearing_aid",
        "II",
        None,
        "",
        21,
        None,
    ),
    (
        "2317149",
        "AIDE AUDITIVE, PILES SANS MERCURE 675-BLEUE OU EQUIVALENT (B/6)",
        "3",
        "0",
        "device",
        "",
        None,
        "",
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("code", "label", "chapter", "max_age", "kind", "klass", "complexity", "band", "low", "high"),
    LABELS,
    ids=[row[0] for row in LABELS],
)
def test_a_label_is_read_as_published(
    code: str,
    label: str,
    chapter: str,
    max_age: str,
    kind: str,
    klass: str,
    complexity: str | None,
    band: str,
    low: int | None,
    high: int | None,
) -> None:
    entry = classify(code, label, chapter, max_age)
    assert (entry.kind, entry.sante_class, entry.lens_complexity) == (kind, klass, complexity)
    assert (entry.band_label, entry.min_age, entry.max_age) == (band, low, high)


BANDS = [
    # (label, sphere, cylinder, fits)
    ("OPTIQUE, VERRE UNIFOCAL CLASSE A, SPHERE] -4,00 A -6,00]", "-4.00", "0", False),
    ("OPTIQUE, VERRE UNIFOCAL CLASSE A, SPHERE] -4,00 A -6,00]", "-4.25", "0", True),
    ("OPTIQUE, VERRE UNIFOCAL CLASSE A, SPHERE] -4,00 A -6,00]", "-6.00", "0", True),
    ("OPTIQUE, VERRE UNIFOCAL CLASSE A, SPHERE] -4,00 A -6,00]", "-5.00", "0.25", False),
    (
        "OPTIQUE, VERRE UNIFOCAL CLASSE B, SPH [0 A - 2,00] ET CYL (+) [0,25 A 4,00]",
        "0",
        "0.25",
        True,
    ),
    (
        "OPTIQUE, VERRE UNIFOCAL CLASSE B, SPH [0 A - 2,00] ET CYL (+) [0,25 A 4,00]",
        "-2.00",
        "4.25",
        False,
    ),
    (
        "OPTIQUE, VERRE UNIFOCAL CLASSE A, SPH POSITIVE ET S ENTRE] +6,00 A +8,00]",
        "5.00",
        "1.50",
        True,
    ),
    (
        "OPTIQUE, VERRE UNIFOCAL CLASSE A, SPH POSITIVE ET S ENTRE] +6,00 A +8,00]",
        "5.00",
        "1.00",
        False,
    ),
    ("OPTIQUE, VERRE UNIFOCAL CLASSE A, SPHERE > +12,00", "12.00", "0", False),
    ("OPTIQUE, VERRE UNIFOCAL CLASSE A, SPHERE > +12,00", "12.25", "0", True),
]


@pytest.mark.parametrize(("label", "sphere", "cylinder", "fits"), BANDS)
def test_a_correction_falls_in_a_band_or_not(
    label: str, sphere: str, cylinder: str, fits: bool
) -> None:
    entry = classify("2200000", label, "2")
    assert entry.holds(Decimal(sphere), Decimal(cylinder)) is fits
