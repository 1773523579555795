"""Returns to professionals (issue 16 part 2): one line per invoice event a practice's
software reconciles with, polled by cursor as JSON, CSV and FHIR, and on the portal. Paid
events are appended with ``lifecycle.append_event`` as the money loop's contract says."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from fhir.resources.R4B.bundle import Bundle

from tests.conftest import totp_code
from tests.factories import PASSWORD, make_beneficiary, make_professional
from tests.returns.builders import CARE_DATE, NOW, append, stored_invoice
from tierspayant.invoices.choices import InvoiceEventKind as K
from tierspayant.invoices.choices import InvoiceReason, LotFormat, LotReason, LotStatus
from tierspayant.invoices.models import Invoice, InvoiceEvent, Lot
from tierspayant.providers.choices import Profession, Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token
from tierspayant.registry.models import Beneficiary
from tierspayant.returns.choices import (
    RETURN_KINDS,
    BankReturnReason,
    ReasonSource,
    reason_label,
    reason_table,
)
from tierspayant.returns.noemie import NOT_PUBLIC, NoemieMapping
from tierspayant.returns.selectors import return_lines
from tierspayant.returns.services import CSV_HEADER, line_json

PAID_AT = dt.datetime(2026, 3, 5, 22, 0, tzinfo=dt.UTC)
VALUE_DATE = dt.date(2026, 3, 6)
E2E = "RUN-20260305-000001-7"


def _token(professional: Professional, scope: Scope = Scope.CLAIMS_SUBMIT) -> dict[str, str]:
    secret = issue_api_token(
        professional=professional, name="LGO", scopes=[scope], now=timezone.now(), valid_days=1
    ).secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def pharmacist(db: None) -> Professional:
    return make_professional(profession=Profession.PHARMACIST, specialty_code="50")


@pytest.fixture
def patient(db: None) -> Beneficiary:
    return make_beneficiary()


@pytest.fixture
def paid(pharmacist: Professional, patient: Beneficiary) -> Invoice:
    """F-100 in lot RET-1, accepted for 6.00 then paid by transfer E2E."""
    lot = Lot.objects.create(
        professional=pharmacist,
        reference="RET-1",
        format=LotFormat.JSONL,
        channel="api",
        declared_count=1,
        declared_total=Decimal("20.00"),
        status=LotStatus.DONE,
        total_amc=Decimal("6.00"),
        received_at=NOW,
    )
    invoice = stored_invoice(pharmacist, patient, "F-100", lot=lot)
    append(
        invoice,
        K.PAID,
        at=PAID_AT,
        amount=Decimal("6.00"),
        reference=E2E,
        value_date=VALUE_DATE,
    )
    return invoice


def _expected_paid_line(invoice: Invoice, cursor: int) -> dict[str, Any]:
    return {
        "cursor": cursor,
        "at": "2026-03-05T22:00:00+00:00",
        "kind": "paid",
        "kind_label": "Payée",
        "invoice_number": "F-100",
        "lot_id": invoice.lot_id,
        "lot_reference": "RET-1",
        "care_date": CARE_DATE.isoformat(),
        "amc_number": invoice.insurer.amc_number,  # type: ignore[union-attr]
        "billed": "20.00",
        "amc_requested": "6.00",
        "amount": "6.00",
        "transfer_reference": E2E,
        "transfer_date": "2026-03-06",
        "run_reference": "",
        "replacement_number": "",
        "deadline": None,
        "reasons": [],
    }


def test_a_paid_invoice_returns_its_acceptance_then_its_payment(paid: Invoice) -> None:
    lines = return_lines(paid.professional)
    assert [(line.kind, line.amount, line.transfer_reference) for line in lines] == [
        ("accepted", Decimal("6.00"), ""),
        ("paid", Decimal("6.00"), E2E),
    ]
    received = InvoiceEvent.objects.get(invoice=paid, kind=K.RECEIVED)
    assert received.pk not in {line.cursor for line in lines}  # the lot's ack answers it


def test_the_json_line_is_exact(client: Client, paid: Invoice) -> None:
    paid_event = InvoiceEvent.objects.get(invoice=paid, kind=K.PAID)
    response = client.get("/api/v1/returns?_since=0", **_token(paid.professional))
    assert response.status_code == 200
    body = response.json()
    assert body["since"] == 0
    assert body["next_cursor"] == paid_event.pk
    assert body["more"] is False
    assert body["lines"][1] == _expected_paid_line(paid, paid_event.pk)
    assert body["lines"][0]["kind"] == "accepted"


def test_cursor_paging_loses_and_repeats_nothing(
    client: Client, pharmacist: Professional, patient: Beneficiary
) -> None:
    invoices = [
        stored_invoice(pharmacist, patient, f"F-{n:03}", rejected=["TOTAL_MISMATCH"] * (n % 3 == 0))
        for n in range(1, 24)
    ]
    for n, invoice in enumerate(invoices):
        if invoice.status == "accepted" and n % 2:
            append(invoice, K.PAID, at=PAID_AT, amount=invoice.total_amc, reference=f"E2E-{n}")
    expected = list(
        InvoiceEvent.objects.filter(professional=pharmacist, kind__in=RETURN_KINDS)
        .order_by("id")
        .values_list("id", flat=True)
    )
    auth = _token(pharmacist)
    seen: list[int] = []
    cursor, pages = 0, 0
    while True:
        body = client.get(f"/api/v1/returns?_since={cursor}&_count=7", **auth).json()
        seen += [line["cursor"] for line in body["lines"]]
        pages += 1
        cursor = body["next_cursor"]
        if not body["more"]:
            break
    assert seen == expected
    assert pages == len(expected) // 7 + 1
    # Nothing new: the same cursor comes back, no line.
    again = client.get(f"/api/v1/returns?_since={cursor}", **auth).json()
    assert again == {"since": cursor, "next_cursor": cursor, "more": False, "lines": []}
    # A new event appears after the cursor, and only it.
    late = append(invoices[0], K.PAID, at=PAID_AT, amount=Decimal("6.00"), reference="E2E-L")
    body = client.get(f"/api/v1/returns?_since={cursor}", **auth).json()
    assert [(line["cursor"], line["transfer_reference"]) for line in body["lines"]] == [
        (late.pk, "E2E-L")
    ]


def test_a_poll_is_one_query(
    pharmacist: Professional, patient: Beneficiary, django_assert_num_queries: Any
) -> None:
    for n in range(5):
        stored_invoice(pharmacist, patient, f"Q-{n}")
    with django_assert_num_queries(1):
        assert len(return_lines(pharmacist, since=0, count=100)) == 5


def test_another_professionals_lines_are_never_visible(
    client: Client, paid: Invoice, patient: Beneficiary
) -> None:
    other = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    mine = stored_invoice(other, patient, "F-100")  # the same number, another pharmacy
    auth = _token(other)
    own_cursors = set(
        InvoiceEvent.objects.filter(invoice=mine, kind__in=RETURN_KINDS).values_list(
            "id", flat=True
        )
    )
    body = client.get("/api/v1/returns", **auth).json()
    assert {line["cursor"] for line in body["lines"]} == own_cursors
    csv_text = client.get("/api/v1/returns.csv", **auth).content.decode("utf-8-sig")
    assert E2E not in csv_text and len(csv_text.splitlines()) == 2
    bundle = client.get("/fhir/r4/ClaimResponse?_cursor=0", **auth).json()
    assert {e["resource"]["id"] for e in bundle["entry"]} == {f"return-{c}" for c in own_cursors}
    assert E2E not in json.dumps(bundle)


def test_the_csv_has_its_columns(client: Client, paid: Invoice) -> None:
    paid_event = InvoiceEvent.objects.get(invoice=paid, kind=K.PAID)
    response = client.get("/api/v1/returns.csv?_since=0", **_token(paid.professional))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["X-Next-Cursor"] == str(paid_event.pk)
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert tuple(rows[0]) == CSV_HEADER
    assert dict(zip(CSV_HEADER, rows[2], strict=True)) == {
        "curseur": str(paid_event.pk),
        "date_evenement": "2026-03-05T22:00:00+00:00",
        "evenement": "paid",
        "libelle_evenement": "Payée",
        "numero_facture": "F-100",
        "lot": str(paid.lot_id),
        "reference_lot": "RET-1",
        "date_soins": "2026-02-27",
        "numero_amc": paid.insurer.amc_number,  # type: ignore[union-attr]
        "montant_facture": "20.00",
        "part_amc_demandee": "6.00",
        "montant_evenement": "6.00",
        "reference_virement": E2E,
        "date_virement": "2026-03-06",
        "reference_campagne": "",
        "facture_remplacante": "",
        "date_limite": "",
        "codes_motifs": "",
        "libelles_motifs": "",
    }


def test_a_rejection_carries_its_reason_codes_and_labels(
    client: Client, pharmacist: Professional, patient: Beneficiary
) -> None:
    stored_invoice(
        pharmacist,
        patient,
        "F-R",
        rejected=[InvoiceReason.TOTAL_MISMATCH, LotReason.NO_RIGHTS_ON_DATE],
    )
    line = client.get("/api/v1/returns", **_token(pharmacist)).json()["lines"][0]
    assert (line["kind"], line["amount"], line["amc_requested"]) == ("rejected", None, "0.00")
    assert line["reasons"] == [
        {
            "code": "TOTAL_MISMATCH",
            "label": "Total de la facture différent de la somme des lignes.",
        },
        {"code": "NO_RIGHTS_ON_DATE", "label": "Pas de droits ouverts à la date des soins."},
    ]


def test_money_coming_back_and_corrections_are_lines(
    client: Client, paid: Invoice, pharmacist: Professional, patient: Beneficiary
) -> None:
    later = PAID_AT + dt.timedelta(days=3)
    append(
        paid,
        K.PAYMENT_RETURNED,
        at=later,
        amount=Decimal("6.00"),
        reference=E2E,
        reason_codes=["AC04"],
    )
    append(paid, K.PAID, at=later, amount=Decimal("6.00"), reference="E2E-2", value_date=VALUE_DATE)
    replacement = stored_invoice(pharmacist, patient, "F-100-R", amc="5.00")
    append(paid, K.RECTIFIED, at=later, amount=Decimal("6.00"), related=replacement)
    append(paid, K.RECOVERED, at=later, amount=Decimal("6.00"), reference="RUN-20260312")
    lines = client.get("/api/v1/returns", **_token(pharmacist)).json()["lines"]
    shown = [
        (
            line["invoice_number"],
            line["kind"],
            line["amount"],
            line["transfer_reference"],
            line["run_reference"],
            line["replacement_number"],
            [r["label"] for r in line["reasons"]],
        )
        for line in lines
    ]
    assert shown[2:] == [
        ("F-100", "payment_returned", "6.00", E2E, "", "", ["Compte clôturé."]),
        ("F-100", "paid", "6.00", "E2E-2", "", "", []),
        ("F-100-R", "accepted", "5.00", "", "", "", []),
        ("F-100", "rectified", "6.00", "", "", "F-100-R", []),
        ("F-100", "recovered", "6.00", "", "RUN-20260312", "", []),
    ]


def test_the_fhir_bundle_validates_with_claim_responses_and_the_transfer(
    client: Client, paid: Invoice, pharmacist: Professional, patient: Beneficiary, settings: Any
) -> None:
    second = stored_invoice(pharmacist, patient, "F-101", amc="4.50")
    append(second, K.PAID, at=PAID_AT, amount=Decimal("4.50"), reference=E2E, value_date=VALUE_DATE)
    stored_invoice(pharmacist, patient, "F-102", rejected=["PRESCRIPTION_REQUIRED"])
    auth = _token(pharmacist)
    # A page of two lines: F-100 accepted and paid. The transfer also paid F-101 (later page).
    response = client.get("/fhir/r4/ClaimResponse?_cursor=0&_count=2", **auth)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    body = response.json()
    Bundle.model_validate(body)
    base = settings.TIERSPAYANT_FHIR_BASE_URL
    paid_event = InvoiceEvent.objects.get(invoice=paid, kind=K.PAID)
    assert body["link"][1] == {
        "relation": "next",
        "url": f"{base}/ClaimResponse?_cursor={paid_event.pk}&_count=2",
    }
    modes = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in body["entry"]]
    assert modes == [
        ("ClaimResponse", "match"),
        ("ClaimResponse", "match"),
        ("PaymentReconciliation", "include"),
    ]
    accepted, paid_response, transfer = (e["resource"] for e in body["entry"])
    assert accepted["outcome"] == "complete" and "payment" not in accepted
    assert paid_response["request"]["identifier"]["value"] == "F-100"
    assert paid_response["payment"] == {
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/ex-paymenttype",
                    "code": "complete",
                }
            ]
        },
        "date": "2026-03-06",
        "amount": {"value": 6.0, "currency": "EUR"},
        "identifier": {"system": f"{base}/NamingSystem/transfer", "value": E2E},
    }
    assert [a["amount"]["value"] for a in paid_response["item"][0]["adjudication"]] == [
        20.0,
        20.0,
        12.0,
        6.0,
        2.0,
    ]
    assert "patient" in paid_response and "identifier" not in paid_response["patient"]
    assert transfer["paymentAmount"] == {"value": 10.5, "currency": "EUR"}
    assert transfer["paymentIdentifier"]["value"] == E2E
    assert [
        (d["request"]["identifier"]["value"], d["amount"]["value"]) for d in transfer["detail"]
    ] == [
        ("F-100", 6.0),
        ("F-101", 4.5),
    ]
    # The rest: F-101 accepted and paid, F-102 rejected (error + processNote), no next link.
    rest = client.get(f"/fhir/r4/ClaimResponse?_cursor={paid_event.pk}&_count=3", **auth)
    rest_body = rest.json()
    Bundle.model_validate(rest_body)
    assert [link["relation"] for link in rest_body["link"]] == ["self", "next"]  # full page
    rejected = rest_body["entry"][2]["resource"]
    assert rejected["outcome"] == "error"
    assert rejected["error"][0]["code"]["coding"][0]["code"] == "PRESCRIPTION_REQUIRED"
    assert rejected["processNote"][0]["text"] == (
        "PRESCRIPTION_REQUIRED : Prescripteur (RPPS) et date de prescription requis."
    )


def test_the_lot_search_still_answers_by_lot(client: Client, paid: Invoice) -> None:
    response = client.get(f"/fhir/r4/ClaimResponse?lot={paid.lot_id}", **_token(paid.professional))
    assert response.status_code == 200
    assert response.json()["type"] == "searchset"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/returns?_since=-1", 422),
        ("/api/v1/returns?_since=abc", 422),
        ("/api/v1/returns?_count=0", 422),
        ("/api/v1/returns?_count=10001", 422),
        ("/api/v1/returns?_since=99999999999999999999", 422),
        ("/api/v1/returns.csv?_since=x", 422),
        ("/fhir/r4/ClaimResponse?_cursor=abc", 400),
        ("/fhir/r4/ClaimResponse?_cursor=-5", 400),
        ("/fhir/r4/ClaimResponse?_count=99999999999999999999", 400),
    ],
)
def test_bad_parameters_are_refused_plainly(
    client: Client, pharmacist: Professional, path: str, status: int
) -> None:
    response = client.get(path, **_token(pharmacist))
    assert response.status_code == status
    text = response.content.decode()
    assert ("_since" in text) or ("_count" in text) or ("_cursor" in text)


@pytest.mark.parametrize(
    "path", ["/api/v1/returns", "/api/v1/returns.csv", "/fhir/r4/ClaimResponse?_cursor=0"]
)
def test_a_token_without_claims_scope_is_refused(
    client: Client, pharmacist: Professional, path: str
) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, **_token(pharmacist, Scope.ELIGIBILITY_CHECK)).status_code == 401


def test_the_reason_table_labels_every_code_in_french() -> None:
    table = reason_table()
    assert {row.source for row in table} == set(ReasonSource)
    codes = {(row.source, row.code) for row in table}
    assert len(codes) == len(table)
    assert {c for s, c in codes if s == ReasonSource.INVOICE} == {r.value for r in InvoiceReason}
    assert {c for s, c in codes if s == ReasonSource.BANK} == set(BankReturnReason.values)
    for row in table:
        assert row.label and row.label[0].isupper() and row.label.endswith("."), row


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("TOTAL_MISMATCH", "Total de la facture différent de la somme des lignes."),
        ("DUPLICATE_INVOICE", None),
        ("CEILING_EXHAUSTED", "Plafond de la garantie atteint."),
        ("APPROVAL_CAP", "Part complémentaire limitée au montant de l'accord de prise en charge."),
        ("AC04", "Compte clôturé."),
        ("MD07", "Titulaire du compte décédé."),
        ("SOMETHING_NEW", "SOMETHING_NEW"),
    ],
)
def test_reason_labels(code: str, label: str | None) -> None:
    if label is None:
        assert reason_label(code).startswith("Facture déjà reçue")
    else:
        assert reason_label(code) == label


def test_the_noemie_column_is_dated_data_that_says_non_public(tmp_path: Any) -> None:
    shipped = NoemieMapping.load()
    assert shipped.as_of == dt.date(2026, 12, 7)
    assert shipped.code_for("TOTAL_MISMATCH") == NOT_PUBLIC == "non public"
    licensed = tmp_path / "noemie.json"
    licensed.write_text(
        json.dumps({"as_of": "2027-01-01", "source": "copie sous licence", "codes": {"AC04": "X1"}})
    )
    assert NoemieMapping.load(licensed).code_for("AC04") == "X1"
    licensed.write_text('{"as_of": "2027-01-01", "codes": []}')
    with pytest.raises(
        ValueError, match=r"noemie\.json : table de correspondance NOEMIE illisible"
    ):
        NoemieMapping.load(licensed)


def test_the_portal_page_filters_by_kind_and_downloads_csv(
    paid: Invoice, pharmacist: Professional
) -> None:
    client = Client()
    client.post("/connexion/", {"username": pharmacist.user.username, "password": PASSWORD})
    device = TOTPDevice.objects.get(user=pharmacist.user)
    assert client.post("/connexion/code/", {"otp_token": totp_code(device)}).status_code == 302
    other = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    theirs = stored_invoice(other, make_beneficiary(), "AUTRE-1")
    append(theirs, K.PAID, at=PAID_AT, amount=Decimal("6.00"), reference="E2E-AUTRE")
    page = client.get("/retours/").content.decode()
    assert "Retours" in page and E2E in page and "Acceptée" in page
    assert "AUTRE-1" not in page and "E2E-AUTRE" not in page
    only_paid = client.get("/retours/?type=paid").content.decode()
    assert E2E in only_paid and "<td>Acceptée</td>" not in only_paid
    response = client.get("/retours/retours.csv?type=paid")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert [row[2] for row in rows[1:]] == ["paid"]
    assert rows[1][12] == E2E
    assert "E2E-AUTRE" not in client.get("/retours/retours.csv").content.decode()


DOCS = Path(__file__).resolve().parents[2] / "docs" / "returns.md"


def _blocks(kind: str) -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    return re.findall(rf"```{kind}\n(.*?)```", text, flags=re.DOTALL)


def test_the_docs_table_is_the_reason_table() -> None:
    rows = re.findall(
        r"^\| `([A-Z0-9_]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", DOCS.read_text(), re.M
    )
    assert [
        (code, source.strip(), label.strip(), noemie.strip())
        for code, source, label, noemie in rows
    ] == [(row.code, str(row.source.label), row.label, NOT_PUBLIC) for row in reason_table()]


def test_the_docs_examples_have_the_real_shapes(paid: Invoice) -> None:
    poll, bundle = (json.loads(block) for block in _blocks("json"))
    line = return_lines(paid.professional)[1]
    assert set(poll["lines"][0]) == set(line_json(line))
    assert set(poll) == {"since", "next_cursor", "more", "lines"}
    Bundle.model_validate(bundle)
    header = _blocks("csv")[0].splitlines()[0]
    assert tuple(header.split(";")) == CSV_HEADER


@pytest.mark.django_db(transaction=True)
def test_a_line_committed_late_with_a_smaller_cursor_is_not_skipped() -> None:
    """A payment run's transaction writes its paid events (small ids) and commits minutes
    later; meanwhile another transaction commits a larger id. A poll in between must not
    return the larger one (its cursor would pass the run's events for good)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite commits one transaction at a time: ids are in commit order")
    import psycopg

    pharmacist = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    patient = make_beneficiary()
    in_run = stored_invoice(pharmacist, patient, "L-1")
    alone = stored_invoice(pharmacist, patient, "L-2")
    start = return_lines(pharmacist)[-1].cursor
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or None
    ) as run:
        late = run.execute(
            "INSERT INTO invoices_invoiceevent (invoice_id, professional_id, "
            "insurer_id, kind, at, actor_kind, reason, reason_codes, amount, reference, "
            "value_date) VALUES (%s, %s, %s, 'paid', now(), 'system', '', '[]', 6.00, "
            "'E2E-RUN', '2026-03-06') RETURNING id",
            [in_run.pk, pharmacist.pk, in_run.insurer_id],
        ).fetchone()[0]  # type: ignore[index]
        early = append(alone, K.PAID, at=PAID_AT, amount=Decimal("6.00"), reference="E2E-ALONE")
        assert early.pk > late
        assert return_lines(pharmacist, since=start) == []
        run.commit()
    # Both now, in cursor order (another session's long transaction on the same server
    # may hold them back a little longer: never one without the other).
    for _ in range(100):
        cursors = [line.cursor for line in return_lines(pharmacist, since=start)]
        assert cursors in ([], [late], [late, early.pk])
        if len(cursors) == 2:
            break
        time.sleep(0.2)
    assert cursors == [late, early.pk]
