"""CLC (issue 17 part 4) and engagements honoured on invoices (part 5): the calculation is
the adjudication's own figures, counts against the quotas, is logged; an invoice under a
valid engagement is paid at least the engaged amount even after a termination; every other
use of an engagement is refused."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.engagements.conftest import AMC, BORN, CARE, NOW, TODAY, Family, context, run, v2
from tests.factories import make_beneficiary, make_professional
from tests.invoices.builders import invoice, line
from tests.registry.conftest import member_row
from tierspayant.audit.choices import Outcome
from tierspayant.audit.models import DisclosureLog
from tierspayant.calculations.services import Calculation, InvalidCalculation, calculate
from tierspayant.coverage import History, load_guarantee_table
from tierspayant.eligibility.models import Engagement
from tierspayant.eligibility.services import RightsCheckInput
from tierspayant.guard.services import QuotaExceeded
from tierspayant.invoices.engagements import Honoured, paid, rights_guaranteed
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.models import Invoice
from tierspayant.invoices.services import record_invoice
from tierspayant.providers.choices import Profession
from tierspayant.providers.models import Professional
from tierspayant.registry.member_file.columns import HEADER
from tierspayant.registry.member_file.importer import import_members

pytestmark = pytest.mark.usefixtures("nomenclatures")
TABLE = load_guarantee_table(settings.TIERSPAYANT_GUARANTEE_TABLES_DIR / "essentiel.json")
AGE = 43  # born 1981-04-02, care 2025-03-14
BILL = invoice(
    line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00"),
    line("LPP", "1100028", "20.00", rate="60", amo="10.80", br="18.00"),
)


@pytest.fixture
def pharmacist(db: None) -> Professional:
    return make_professional(profession=Profession.PHARMACIST, specialty_code="50")


def clc(
    professional: Professional, family: Family, bill: InvoiceInput = BILL, **kw: Any
) -> Calculation:
    query = kw.pop("query", None) or v2(family, domain=None)
    kw.setdefault("daily_quota", 500)
    return calculate(
        settings.TIERSPAYANT_KEYRING,
        professional=professional,
        query=query,
        invoice=bill,
        context=context(professional),
        now=kw.pop("now", NOW),
        today=TODAY,
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
        **kw,
    )


def bill_it(
    professional: Professional, beneficiary: Any, bill: InvoiceInput = BILL, **kw: Any
) -> Invoice:
    return record_invoice(
        bill,
        professional=professional,
        beneficiary=beneficiary,
        table=TABLE,
        beneficiary_age=AGE,
        history=History(),
        now=kw.pop("now", NOW),
        **kw,
    )


def test_calculation_gives_the_amc_amount_and_an_engagement(
    pharmacist: Professional, attested: Family
) -> None:
    answer = clc(pharmacist, attested)
    assert (answer.outcome, answer.domain) == (Outcome.COVERED, "pharmacy")
    assert answer.result is not None
    assert [(x.amc, x.rac) for x in answer.result.lines] == [
        (Decimal("4.48"), Decimal("1.00")),
        (Decimal("7.20"), Decimal("2.00")),
    ]
    assert answer.amc == Decimal("11.68")
    engagement = Engagement.objects.get()
    assert (engagement.amc_amount, engagement.domain) == (Decimal("11.68"), "pharmacy")
    row = DisclosureLog.objects.get()
    assert (row.purpose, row.outcome, row.beneficiary_id) == (
        "calculation",
        "covered",
        attested.insured.pk,
    )
    assert row.fields_disclosed[-3:] == ["domain_rules", "engagement", "amc_amount"]


def test_invalid_lines_are_refused_before_anything_is_read(
    pharmacist: Professional, attested: Family
) -> None:
    bad = invoice(line("CIP13", "3400936963504", "12.81", rate="65", amo="13.00"))
    with pytest.raises(InvalidCalculation) as caught:
        clc(pharmacist, attested, bad)
    assert caught.value.problems[0]["field"] == "amo_paid"
    assert not DisclosureLog.objects.exists() and not Engagement.objects.exists()


def test_calculation_of_a_stranger_is_the_single_no_match(
    pharmacist: Professional, attested: Family
) -> None:
    answer = clc(pharmacist, attested, query=v2(attested, member_number="Z9", domain=None))
    assert (answer.outcome, answer.result, answer.engagement) == (Outcome.NO_MATCH, None, None)


def test_calculations_count_against_the_quotas(pharmacist: Professional, attested: Family) -> None:
    run(pharmacist, v2(attested), daily_quota=3)  # a rights check: 1
    clc(pharmacist, attested, daily_quota=3)  # 2
    clc(pharmacist, attested, daily_quota=3)  # 3
    with pytest.raises(QuotaExceeded):
        clc(pharmacist, attested, daily_quota=3)
    assert list(DisclosureLog.objects.order_by("id").values_list("purpose", "outcome")) == [
        ("rights_check", "covered"),
        ("calculation", "covered"),
        ("calculation", "covered"),
        ("calculation", "refused_quota"),
    ]


_numbers = iter(range(1_000_000))


@hypothesis_settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["cip", "lpp"]),
            st.integers(min_value=100, max_value=40_000),  # unit price, cents
            st.integers(min_value=1, max_value=3),
            st.integers(min_value=0, max_value=100),  # franchise, cents
        ),
        min_size=1,
        max_size=4,
    )
)
def test_calculation_equals_adjudication(
    pharmacist: Professional, attested: Family, lines: list[tuple[str, int, int, int]]
) -> None:
    """For any valid lines, CLC gives the AMC and remaining cost, per line and in total,
    that adjudicating the same invoice then stores (same engine path, same table, same age)."""
    built = []
    for kind, cents, quantity, franchise in lines:
        unit = Decimal(cents) / 100
        billed = unit * quantity
        rate = Decimal("65") if kind == "cip" else Decimal("60")
        amo = (billed * rate / 100).quantize(Decimal("0.01"))
        fr = min(Decimal(franchise) / 100, billed - amo)
        code = ("CIP13", "3400936963504") if kind == "cip" else ("LPP", "1100028")
        built.append(
            line(code[0], code[1], f"{unit:.2f}", quantity=quantity, rate=f"{rate}", amo=f"{amo}",
                 franchise=f"{fr:.2f}")
        )  # fmt: skip
    bill = invoice(*built, number=f"F-P{next(_numbers)}")
    answer = clc(pharmacist, attested, bill)
    assert answer.result is not None
    stored = bill_it(pharmacist, attested.insured, bill)
    assert stored.status == "accepted"
    assert (stored.total_amc, stored.total_rac) == (
        answer.result.totals.amc,
        answer.result.totals.rac,
    )
    assert [(x.amc, x.rac) for x in stored.lines.all()] == [
        (x.amc, x.rac) for x in answer.result.lines
    ]


# --- engagements honoured ---------------------------------------------------------------


def test_invoice_under_its_engagement_is_paid_and_uses_it(
    pharmacist: Professional, attested: Family
) -> None:
    number = clc(pharmacist, attested).engagement
    stored = bill_it(pharmacist, attested.insured, engagement=number)
    assert (stored.status, stored.total_amc, stored.total_rac) == (
        "accepted",
        Decimal("11.68"),
        Decimal("3.00"),
    )
    engagement = Engagement.objects.get()
    assert (engagement.invoice_id, engagement.used_at) == (stored.pk, NOW)


def test_invoice_is_paid_after_a_termination_imported_in_between(
    pharmacist: Professional, attested: Family, tmp_path: Any
) -> None:
    number = clc(pharmacist, attested).engagement
    assert number is not None
    ended = tmp_path / "adherents-fin.csv"
    row = member_row(
        attested.nir,
        amc=AMC,
        contract="CT-ATTEST",
        birth=BORN.isoformat(),
        end="2025-03-01",
        domains="pharmacy|optical",
    )
    ended.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    errors: list[object] = []
    summary = import_members(
        ended, keyring=settings.TIERSPAYANT_KEYRING, today=TODAY, report=errors.append
    )
    assert (errors, summary.terminated) == ([], 1)
    after = run(pharmacist, RightsCheckInput(nir=attested.nir, birth_date=BORN, care_date=CARE))
    assert after.outcome is Outcome.NOT_COVERED  # the member file ended the rights
    attested.insured.refresh_from_db()
    assert rights_guaranteed(
        number, professional=pharmacist, beneficiary=attested.insured, care_date=CARE, now=NOW
    )
    stored = bill_it(pharmacist, attested.insured, engagement=number)
    assert (stored.status, stored.total_amc) == ("accepted", Decimal("11.68"))


def refusal_of(stored: Invoice) -> str:
    assert stored.status == "rejected" and stored.total_amc == Decimal("0.00")
    (reason,) = [r for r in stored.reasons if r["code"] == "ENGAGEMENT_REFUSED"]
    assert reason["field"] == "engagement"
    return str(reason["message"])


def test_engagement_replayed_by_another_professional_is_refused(
    pharmacist: Professional, attested: Family
) -> None:
    number = clc(pharmacist, attested).engagement
    other = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    stored = bill_it(other, attested.insured, engagement=number)
    assert refusal_of(stored) == (
        "Facture F-0001, champ engagement : engagement de paiement refusé "
        "(engagement inconnu ou émis pour un autre professionnel)."
    )
    assert Engagement.objects.get().used_at is None  # still the pharmacist's to use


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("forged", "engagement inconnu ou émis pour un autre professionnel"),
        ("other-beneficiary", "engagement émis pour un autre bénéficiaire"),
        ("other-domain", "une ligne relève d'un autre domaine que celui de l'engagement"),
        ("other-date", "la date des soins n'est pas celle de l'engagement"),
        ("expired", "engagement expiré"),
        ("replayed", "engagement déjà utilisé par une autre facture"),
    ],
)
def test_engagement_misuse_is_refused(
    pharmacist: Professional, attested: Family, case: str, words: str
) -> None:
    number = clc(pharmacist, attested).engagement
    assert number is not None
    beneficiary, bill, now = attested.insured, BILL, NOW
    if case == "forged":
        number = number[:-1] + ("A" if number[-1] != "A" else "B")
    elif case == "other-beneficiary":
        beneficiary = make_beneficiary(contract=attested.insured.contract)
    elif case == "other-domain":
        number = run(pharmacist, v2(attested, domain="optical")).engagement
    elif case == "other-date":
        bill = dataclasses.replace(BILL, care_date=CARE - datetime.timedelta(days=1))
    elif case == "expired":
        now = NOW + datetime.timedelta(days=30)
    elif case == "replayed":
        assert bill_it(pharmacist, beneficiary, engagement=number).status == "accepted"
        bill = dataclasses.replace(BILL, invoice_number="F-0002")
    stored = bill_it(pharmacist, beneficiary, bill, engagement=number, now=now)
    assert refusal_of(stored).endswith(f"({words}).")


@pytest.mark.parametrize(
    ("computed", "rac", "floor", "expected"),
    [
        ("11.68", "3.00", "0.00", ("11.68", "3.00")),  # rights check alone: the engine's
        ("11.68", "3.00", "11.68", ("11.68", "3.00")),  # same lines, same table
        ("8.00", "6.68", "11.68", ("11.68", "3.00")),  # engine gives less: engaged amount
        ("8.00", "1.00", "11.68", ("11.68", "0.00")),  # remaining cost never below 0
        ("12.00", "2.68", "11.68", ("12.00", "2.68")),  # engine gives more: the engine's
    ],
)
def test_engaged_amount_is_a_floor(
    computed: str, rac: str, floor: str, expected: tuple[str, str]
) -> None:
    honoured = Honoured(Engagement(), Decimal(floor))
    assert paid(Decimal(computed), Decimal(rac), honoured) == tuple(Decimal(e) for e in expected)
    assert paid(Decimal(computed), Decimal(rac), None) == (Decimal(computed), Decimal(rac))


def test_rights_engagement_pays_the_engine_amount(
    pharmacist: Professional, attested: Family
) -> None:
    """An engagement from a rights check alone (no CLC) guarantees the rights, not an amount."""
    number = run(pharmacist, v2(attested)).engagement
    stored = bill_it(pharmacist, attested.insured, engagement=number)
    assert (stored.status, stored.total_amc) == ("accepted", Decimal("11.68"))
    assert Engagement.objects.get().invoice_id == stored.pk


def test_engaged_amount_holds_only_for_the_lines_calculated(
    pharmacist: Professional, attested: Family
) -> None:
    number = clc(pharmacist, attested).engagement
    Engagement.objects.update(amc_amount=Decimal("20.00"))  # e.g. a table changed since
    other = invoice(line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33"))
    stored = bill_it(pharmacist, attested.insured, other, engagement=number)
    assert (stored.status, stored.total_amc) == ("accepted", Decimal("5.48"))  # the engine's


def test_invoice_of_the_calculated_lines_is_paid_at_least_the_engaged_amount(
    pharmacist: Professional, attested: Family
) -> None:
    number = clc(pharmacist, attested).engagement
    Engagement.objects.update(amc_amount=Decimal("12.50"))  # e.g. the table lowered since
    stored = bill_it(pharmacist, attested.insured, engagement=number)
    assert (stored.status, stored.total_amc, stored.total_rac) == (
        "accepted",
        Decimal("12.50"),
        Decimal("2.18"),
    )
