"""The explanation is a plain, JSON-ready structure with amounts as strings."""

from __future__ import annotations

import json
from pathlib import Path

from tests.coverage.builders import consult, frame, lens
from tierspayant.coverage import ReasonCode, compute_case


def test_line_to_dict_shape(tables_dir: Path) -> None:
    result = compute_case(
        {
            "table": "essentiel",
            "beneficiary_age": 42,
            "care_date": "2025-03-14",
            "lines": [
                consult("30.00", id="L1"),
                frame("B", "150.00", id="L2"),
                lens("B", "simple", "right", "120.00", id="L3"),
            ],
        },
        tables_dir,
    )
    assert json.loads(json.dumps(result)) == result
    gp, glasses_frame, right_lens = result["lines"]
    assert gp == {
        "id": "L1",
        "family": "consultation",
        "code": "G",
        "class": None,
        "billed": "30.00",
        "br": "30.00",
        "amo": "19.00",
        "amc": "9.00",
        "rac": "2.00",
        "participation_forfaitaire": "2.00",
        "franchise": "0.00",
        "rule": {
            "source": "table",
            "id": "consultations",
            "label": "Consultations et actes techniques des médecins",
            "formula": "100 % de la BR, part AMO incluse",
        },
        "rule_amount": "9.00",
        "caps": [],
        "reasons": [
            {
                "code": "NOT_COVERED_BY_RESPONSIBLE_CONTRACT",
                "label": ReasonCode.NOT_COVERED_BY_RESPONSIBLE_CONTRACT.label,
            }
        ],
    }
    assert glasses_frame["class"] == "B"
    assert glasses_frame["caps"] == [
        {
            "reason": "OPTICAL_FRAME_CAP",
            "label": ReasonCode.OPTICAL_FRAME_CAP.label,
            "limit": "99.97",
            "ref": "optical.class_b_frame_max",
        }
    ]
    assert right_lens["caps"][0]["ref"] == "optique-b-verres-simples"
    assert result["totals"] == {
        "billed": "300.00",
        "amo": "19.06",
        "amc": "109.00",
        "rac": "171.94",
    }
    assert result["table"] == {
        "id": "essentiel",
        "version": "2024-01-01",
        "responsible": True,
        "name": "Essentiel responsable",
    }
    assert result["reference"] == {
        "id": "regulated-2024",
        "version": "2021-01-01",
        "optical_cap_includes_amo": True,
    }
    assert result["history_after"]["previous_equipment"] == [
        {"family": "optical_frame", "side": None, "date": "2025-03-14"},
        {"family": "optical_lens", "side": "right", "date": "2025-03-14"},
    ]


def test_every_reason_has_a_french_label() -> None:
    for code in ReasonCode:
        assert code.label.endswith(".")
        assert code.value == code.name
