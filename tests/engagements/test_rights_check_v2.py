"""Rights check v2 (IDB, issue 17 part 3): the attestation's keys inside the disclosure gate,
the single no-match answer for every mismatch, and the engagement of a positive answer."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.engagements.conftest import AMC, BORN, CARE, NOW, Family, run, v2
from tests.factories import make_professional, new_nir
from tierspayant.audit.choices import Outcome
from tierspayant.audit.models import DisclosureLog
from tierspayant.eligibility.models import Engagement
from tierspayant.eligibility.services import InvalidRightsCheck, RightsCheckInput
from tierspayant.providers.models import Professional

pytestmark = pytest.mark.django_db


def test_covered_v2_answer_carries_rules_and_a_stored_engagement(
    optician: Professional, attested: Family
) -> None:
    result = run(optician, v2(attested))
    assert result.outcome is Outcome.COVERED
    assert result.engagement is not None and result.engagement.startswith("ENG-")
    assert len(result.engagement) == 4 + 26
    assert result.engagement_expires_at == NOW + datetime.timedelta(days=30)
    assert result.domain_rules == [
        {
            "rule": "pharmacie",
            "label": "Médicaments remboursables",
            "families": ["pharmacy"],
            "benefit": "100 % de la BR, part AMO incluse",
        },
        {
            "rule": "dispositifs-medicaux",
            "label": "Dispositifs médicaux (LPP) remboursés par l'Assurance Maladie",
            "families": ["medical_device"],
            "benefit": "100 % de la BR, part AMO incluse",
        },
    ]
    stored = Engagement.objects.get()
    assert stored.number_digest == hashlib.sha256(result.engagement.encode()).hexdigest()
    assert (stored.professional_id, stored.beneficiary_id, stored.domain, stored.care_date) == (
        optician.pk,
        attested.insured.pk,
        "pharmacy",
        CARE,
    )
    assert (stored.disclosure_id, stored.amc_amount, stored.used_at) == (result.log_id, None, None)
    row = DisclosureLog.objects.get()
    assert row.fields_disclosed == [
        "coverage_status",
        "rights_period",
        "tiers_payant_domains",
        "amc_number",
        "domain_rules",
        "engagement",
    ]


def test_engagement_numbers_are_unguessable_and_never_stored(
    optician: Professional, attested: Family
) -> None:
    numbers = {run(optician, v2(attested)).engagement for _ in range(5)}
    assert len(numbers) == 5
    stored = set(Engagement.objects.values_list("number_digest", flat=True))
    assert not numbers & stored


def test_v1_check_gives_no_engagement(optician: Professional, attested: Family) -> None:
    result = run(optician, RightsCheckInput(nir=attested.nir, birth_date=BORN, care_date=CARE))
    assert (result.outcome, result.engagement, result.domain_rules) == (Outcome.COVERED, None, [])
    assert not Engagement.objects.exists()
    assert DisclosureLog.objects.get().fields_disclosed[-1] == "amc_number"


def test_domain_not_open_gives_rights_without_engagement(
    optician: Professional, attested: Family
) -> None:
    result = run(optician, v2(attested, domain="dental"))
    assert (result.outcome, result.engagement) == (Outcome.COVERED, None)
    assert not Engagement.objects.exists()


def test_ended_rights_give_no_engagement(optician: Professional, attested: Family) -> None:
    attested.insured.rights_end = datetime.date(2025, 1, 31)
    attested.insured.save()
    result = run(optician, v2(attested))
    assert (result.outcome, result.engagement) == (Outcome.NOT_COVERED, None)


MISMATCHES = {
    "wrong-nir": lambda f: v2(f, nir=new_nir(BORN)),
    "wrong-birth-date": lambda f: v2(f, birth_date=datetime.date(1981, 4, 3)),
    "wrong-member-number": lambda f: v2(f, member_number="A1234568"),
    "wrong-amc-number": lambda f: v2(f, amc_number="88000018"),
    "wrong-convention-type": lambda f: v2(f, convention_type="XX"),
    "wrong-routing-criterion": lambda f: v2(f, routing_criterion="R02"),
}


@pytest.mark.parametrize("variant", sorted(MISMATCHES))
def test_every_mismatch_gets_the_single_no_match(
    optician: Professional, attested: Family, variant: str
) -> None:
    result = run(optician, MISMATCHES[variant](attested))
    assert (
        result.outcome,
        result.rights_start,
        result.amc_number,
        result.domains,
        result.domain_rules,
        result.engagement,
    ) == (Outcome.NO_MATCH, None, None, [], [], None)
    row = DisclosureLog.objects.get()
    assert (row.outcome, row.beneficiary_id, row.fields_disclosed) == ("no_match", None, [])
    assert not Engagement.objects.exists()


def test_wrong_member_number_costs_what_a_wrong_nir_costs(
    optician: Professional, attested: Family
) -> None:
    """No oracle by timing: a wrong member number and a wrong NIR run the same statements
    (same SQL, same order: one lookup, one log row) and the same keyed hashes; the answer
    and the log row are the same. (Durations are measured in bench/rights_check.py --v2,
    never asserted in tests.)"""

    def statements(query: RightsCheckInput) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            run(optician, query)
        return [
            re.sub(
                r'"s\d+_x\d+"', "savepoint", str(q["sql"]).split(" WHERE ")[0].split(" VALUES ")[0]
            )
            for q in captured.captured_queries
        ]

    wrong_member = statements(MISMATCHES["wrong-member-number"](attested))
    wrong_nir = statements(MISMATCHES["wrong-nir"](attested))
    assert wrong_member == wrong_nir
    assert len(wrong_member) >= 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"domain": "chiropractic"}, "domain"),
        ({"amc_number": None}, "amc_number"),
        ({"member_number": "A1234567-ABCDEFGHIJKLMNOP"}, "member_number"),
        ({"member_number": "", "domain": "pharmacy"}, "member_number"),
        ({"convention_type": "TOOLONG"}, "convention_type"),
        ({"routing_criterion": "R 01"}, "routing_criterion"),
    ],
)
def test_bad_v2_input_names_the_field(
    optician: Professional, attested: Family, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidRightsCheck) as caught:
        run(optician, v2(attested, **changes))
    assert caught.value.field == field
    assert DisclosureLog.objects.get().reason == field
    assert not Engagement.objects.exists()


def test_engagement_is_issued_to_the_caller_only(attested: Family) -> None:
    first, second = make_professional(), make_professional()
    run(first, v2(attested))
    run(second, v2(attested))
    assert sorted(Engagement.objects.values_list("professional_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )
    assert Engagement.objects.first().beneficiary.contract.insurer.amc_number == AMC  # type: ignore[union-attr]
