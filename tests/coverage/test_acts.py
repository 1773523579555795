"""Act lines and history: valid inputs are converted once, bad ones are refused by name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.coverage.builders import act, aid, consult, frame, lens, prosthesis
from tierspayant.coverage import (
    ActLine,
    Family,
    History,
    InvalidActLine,
    InvalidCase,
    PreviousEquipment,
    SanteClass,
    Side,
)
from tierspayant.coverage.acts import history_from_dict, line_from_dict


def test_line_from_json_converts_text_and_numbers() -> None:
    line = line_from_dict(
        {
            "id": "7",
            "family": "pharmacy",
            "billed": 4.5,
            "br": "4.50",
            "amo_rate": 65,
            "franchise": None,
            "code": "3400930000001",
        }
    )
    assert line.family is Family.PHARMACY
    assert (line.billed, line.br, line.amo_rate) == (
        Decimal("4.50"),
        Decimal("4.50"),
        Decimal("65.00"),
    )
    assert line.franchise == Decimal("0.00")
    assert (line.amo_gross, line.amo_net, line.line_id) == (Decimal("2.93"), Decimal("2.93"), "7")


def test_python_callers_may_pass_enums_and_decimals() -> None:
    line = ActLine(
        Family.HEARING_AID,
        Decimal("950"),
        Decimal("400"),
        amo_rate=Decimal(60),
        sante_class=SanteClass.AUDIO_I,
        side=Side.LEFT,
    )
    assert (line.amo_gross, line.deductions) == (Decimal("240.00"), Decimal("0.00"))


def test_amo_paid_adds_back_deductions() -> None:
    line = line_from_dict(
        act("consultation", "30", "30", amo_paid="19", participation_forfaitaire="2")
    )
    assert (line.amo_gross, line.amo_net) == (Decimal("21.00"), Decimal("19.00"))


def test_amo_paid_is_used_as_is_beside_the_rate() -> None:
    """Alsace-Moselle local regime: 90 % of a 30 EUR GP consultation, minus the 2 EUR
    participation; the invoice's figure wins over rate x BR (70 % would give 19)."""
    line = line_from_dict(
        act("consultation", "30", "30", "70", amo_paid="25", participation_forfaitaire="2")
    )
    assert (line.amo_gross, line.amo_net, line.amo_rate) == (
        Decimal("27.00"),
        Decimal("25.00"),
        Decimal("70"),
    )


BAD_LINES: list[tuple[str, Any, str, str]] = [
    ("not-an-object", ["consultation"], "", "JSON object"),
    ("unknown-key", {**consult("30"), "tva": "0"}, "tva", "unknown field"),
    ("missing-billed", {"family": "consultation", "br": "30"}, "billed", "required"),
    ("unknown-family", act("astrology", "30", "30", "70"), "family", "unknown value 'astrology'"),
    ("family-not-text", act(3, "30", "30", "70"), "family", "unknown value 3"),
    ("negative-billed", consult("-30.00"), "billed", "must not be negative"),
    ("non-numeric-billed", consult("trente"), "billed", "is not a number"),
    ("boolean-amount", consult(True), "billed", "not bool"),
    ("list-amount", consult(["30"]), "billed", "not list"),
    ("nan-amount", consult("NaN"), "billed", "finite"),
    ("sub-cent-amount", consult("30.001"), "billed", "more than two decimal places"),
    ("float-sub-cent", consult(30.005), "billed", "more than two decimal places"),
    ("br-above-billed", consult("25.00"), "br", "above the billed amount"),
    ("no-amo", act("consultation", "30", "30"), "amo_rate", "give amo_rate, amo_paid or both"),
    ("rate-above-100", act("consultation", "30", "30", "170"), "amo_rate", "at most 100"),
    ("quantity-zero", consult("30", quantity=0), "quantity", "between 1 and 999"),
    ("quantity-text", consult("30", quantity="2"), "quantity", "whole number"),
    ("quantity-bool", consult("30", quantity=True), "quantity", "whole number"),
    ("optam-text", consult("30", optam="no"), "optam", "true or false"),
    ("optam-on-pharmacy", act("pharmacy", "5", "5", "65", optam=False), "optam", "consultation"),
    ("id-not-text", consult("30", id=3), "id", "string"),
    ("code-not-text", consult("30", code=1110), "code", "string"),
    ("code-unknown-shape", consult("30", code="g-1"), "code", "neither LPP"),
    ("lpp-code-on-consultation", consult("30", code="2222124"), "code", "LPP code does not fit"),
    (
        "code-on-alternative-medicine",
        act("alternative_medicine", "60", "0", "0", code="OST"),
        "code",
        "no code",
    ),
    ("optical-without-class", act("optical_frame", "100", "0.05", "60"), "class", "required"),
    ("unknown-class", frame("C", "100"), "class", "unknown value 'C'"),
    ("audio-class-on-frame", frame("II", "100"), "class", "does not apply"),
    ("class-on-consultation", consult("30", **{"class": "A"}), "class", "none"),
    (
        "lens-without-complexity",
        act("optical_lens", "100", "0.05", "60", side="right", **{"class": "B"}),
        "lens_complexity",
        "required",
    ),
    (
        "complexity-on-frame",
        frame("B", "100", lens_complexity="simple"),
        "lens_complexity",
        "does not apply",
    ),
    ("unknown-complexity", lens("B", "thick", "right", "100"), "lens_complexity", "unknown"),
    (
        "lens-without-side",
        act("optical_lens", "100", "0.05", "60", lens_complexity="simple", **{"class": "B"}),
        "side",
        "required",
    ),
    ("side-on-frame", frame("B", "100", side="left"), "side", "does not apply"),
    ("unknown-side", aid("I", "middle", "950"), "side", "unknown"),
    (
        "renewal-reason-on-aid",
        aid("I", "left", "950", renewal_reason="correction_change"),
        "renewal_reason",
        "spectacle",
    ),
    (
        "unknown-renewal-reason",
        frame("B", "100", renewal_reason="fashion"),
        "renewal_reason",
        "unknown",
    ),
    ("price-limit-on-class-b", frame("B", "100", price_limit="100"), "price_limit", "100 % Santé"),
    (
        "price-limit-on-libre",
        prosthesis("libre", "500", price_limit="500"),
        "price_limit",
        "tarif maîtrisé",
    ),
    ("deductions-above-amo", consult("1.00", br="1.00"), "participation_forfaitaire", "exceed"),
    (
        "franchise-above-amo",
        act("pharmacy", "1.00", "1.00", "15", franchise="1.00"),
        "franchise",
        "exceed",
    ),
    (
        "amo-paid-above-br",
        act("consultation", "30", "20", amo_paid="19", participation_forfaitaire="2"),
        "amo_paid",
        "exceeds the BR",
    ),
]


@pytest.mark.parametrize(
    ("data", "field", "why"), [case[1:] for case in BAD_LINES], ids=[case[0] for case in BAD_LINES]
)
def test_bad_line_is_refused_by_name(data: Any, field: str, why: str) -> None:
    with pytest.raises(InvalidActLine) as caught:
        line_from_dict(data)
    assert caught.value.field == field
    assert why in caught.value.reason


def test_error_message_and_prefix() -> None:
    error = InvalidActLine("billed", "must not be negative")
    assert str(error) == "billed: must not be negative"
    assert error.within("lines[2]").field == "lines[2].billed"
    assert (
        InvalidActLine("", "an act line must be a JSON object").within("lines[0]").field
        == "lines[0]"
    )
    assert str(InvalidCase("", "a case must be a JSON object")) == "a case must be a JSON object"


def test_history_round_trip() -> None:
    data = {
        "ceilings_used": {"dentaire-protheses-annuel": "800", "lentilles": 12.5},
        "counts_used": {"medecines-douces-annuel": 2},
        "previous_equipment": [
            {"family": "optical_lens", "side": "right", "date": "2023-05-02"},
            {"family": "optical_frame", "date": "2023-05-02"},
        ],
    }
    history = history_from_dict(data)
    assert history.ceilings_used == {
        "dentaire-protheses-annuel": Decimal("800.00"),
        "lentilles": Decimal("12.50"),
    }
    assert history.last_purchase(Family.OPTICAL_LENS, Side.RIGHT) == dt.date(2023, 5, 2)
    assert history.last_purchase(Family.OPTICAL_LENS, Side.LEFT) is None
    assert history_from_dict(history.to_dict()) == history
    assert history_from_dict(None) == History()
    assert history_from_dict({}) == History()


def test_last_purchase_takes_the_latest() -> None:
    history = History(
        previous_equipment=(
            PreviousEquipment(Family.HEARING_AID, dt.date(2019, 1, 1), Side.LEFT),
            PreviousEquipment(Family.HEARING_AID, dt.date(2022, 1, 1), Side.LEFT),
        )
    )
    assert history.last_purchase(Family.HEARING_AID, Side.LEFT) == dt.date(2022, 1, 1)


BAD_HISTORIES: list[tuple[str, Any, str, str]] = [
    ("not-an-object", [], "history", "JSON object"),
    ("unknown-key", {"spent": {}}, "history.spent", "unknown field"),
    ("ceilings-not-object", {"ceilings_used": []}, "history.ceilings_used", "object"),
    ("equipment-not-array", {"previous_equipment": {}}, "history.previous_equipment", "array"),
    ("negative-amount", {"ceilings_used": {"x": "-1"}}, "history.ceilings_used.x", "negative"),
    ("count-negative", {"counts_used": {"x": -1}}, "history.counts_used.x", "whole number"),
    ("count-text", {"counts_used": {"x": "2"}}, "history.counts_used.x", "whole number"),
    ("count-bool", {"counts_used": {"x": True}}, "history.counts_used.x", "whole number"),
    (
        "equipment-not-object",
        {"previous_equipment": ["2023-01-01"]},
        "history.previous_equipment[0]",
        "must be an object",
    ),
    (
        "equipment-without-date",
        {"previous_equipment": [{"family": "hearing_aid"}]},
        "history.previous_equipment[0]",
        "must be an object",
    ),
    (
        "equipment-extra-key",
        {"previous_equipment": [{"family": "optical_frame", "date": "2023-01-01", "price": "1"}]},
        "history.previous_equipment[0]",
        "must be an object",
    ),
    (
        "equipment-bad-date",
        {"previous_equipment": [{"family": "optical_frame", "date": "2023-13-01"}]},
        "history.previous_equipment[0].date",
        "YYYY-MM-DD",
    ),
    (
        "equipment-unknown-family",
        {"previous_equipment": [{"family": "wig", "date": "2023-01-01"}]},
        "history.previous_equipment[0].family",
        "unknown value",
    ),
    (
        "lens-without-side",
        {"previous_equipment": [{"family": "optical_lens", "date": "2023-01-01"}]},
        "history.previous_equipment[0].side",
        "required",
    ),
    (
        "frame-with-side",
        {"previous_equipment": [{"family": "optical_frame", "side": "left", "date": "2023-01-01"}]},
        "history.previous_equipment[0].side",
        "refused",
    ),
    (
        "unknown-side",
        {"previous_equipment": [{"family": "hearing_aid", "side": "up", "date": "2023-01-01"}]},
        "history.previous_equipment[0].side",
        "unknown",
    ),
]


@pytest.mark.parametrize(
    ("data", "field", "why"),
    [case[1:] for case in BAD_HISTORIES],
    ids=[case[0] for case in BAD_HISTORIES],
)
def test_bad_history_is_refused_by_name(data: Any, field: str, why: str) -> None:
    with pytest.raises(InvalidCase) as caught:
        history_from_dict(data)
    assert caught.value.field == field
    assert why in caught.value.reason


def test_previous_equipment_needs_a_date_not_a_datetime() -> None:
    with pytest.raises(InvalidCase, match="must be a date"):
        PreviousEquipment(Family.OPTICAL_FRAME, dt.datetime(2023, 1, 1, 10, 0))  # noqa: DTZ001
