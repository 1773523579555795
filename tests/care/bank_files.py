"""Bank return files built like a French bank sends them, valid against the official
schemas (camt.054.001.08, pain.002.001.11): the examples under fixtures/bank-returns/ are
made by :func:`camt054` and :func:`pain002` (``python -m tests.care.bank_files``)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

OPERATOR_IBAN = "FR7630006000011234567890189"


def camt054(
    returns: Iterable[tuple[str, Decimal, str]],
    *,
    message_id: str = "CAMT054-20250320-0001",
    created: str = "2025-03-20T07:00:00+01:00",
    booked: str = "2025-03-20",
) -> bytes:
    """A debit/credit notification of the operator's account: one booked credit entry per
    returned transfer ``(end_to_end_id, amount in euros, ISO reason code)``, bank
    transaction code PMNT/ICDT/RRTN (return of a credit transfer), ``RtrInf`` with the
    reason."""
    entries = []
    for end_to_end, amount, reason in returns:
        entries.append(
            f"""      <Ntry>
        <Amt Ccy="EUR">{amount:.2f}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>{booked}</Dt></BookgDt>
        <ValDt><Dt>{booked}</Dt></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>{escape(end_to_end)}</EndToEndId></Refs>
            <Amt Ccy="EUR">{amount:.2f}</Amt>
            <CdtDbtInd>CRDT</CdtDbtInd>
            <RtrInf><Rsn><Cd>{escape(reason)}</Cd></Rsn><AddtlInf>Retour</AddtlInf></RtrInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>"""
        )
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr>
      <MsgId>{escape(message_id)}</MsgId>
      <CreDtTm>{created}</CreDtTm>
    </GrpHdr>
    <Ntfctn>
      <Id>{escape(message_id)}-1</Id>
      <CreDtTm>{created}</CreDtTm>
      <Acct><Id><IBAN>{OPERATOR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
{body}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
""".encode()


def pain002(
    rejected: Iterable[tuple[str, Decimal, str]],
    *,
    original_message_id: str,
    message_id: str = "PAIN002-20250318-0001",
    created: str = "2025-03-18T18:00:00",
    group_status: str = "PART",
) -> bytes:
    """A payment status report on our pain.001 file ``original_message_id``: one ``RJCT``
    transaction status per ``(end_to_end_id, instructed amount in euros, ISO reason code)``.
    With no transaction and ``group_status="RJCT"``: the whole file rejected."""
    transactions = "\n".join(
        f"""      <TxInfAndSts>
        <OrgnlEndToEndId>{escape(end_to_end)}</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf><Rsn><Cd>{escape(reason)}</Cd></Rsn></StsRsnInf>
        <OrgnlTxRef><Amt><InstdAmt Ccy="EUR">{amount:.2f}</InstdAmt></Amt></OrgnlTxRef>
      </TxInfAndSts>"""
        for end_to_end, amount, reason in rejected
    )
    payment_info = (
        f"""    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>{escape(original_message_id)}</OrgnlPmtInfId>
      <PmtInfSts>PART</PmtInfSts>
{transactions}
    </OrgnlPmtInfAndSts>"""
        if transactions
        else ""
    )
    group_reason = (
        "<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf>" if group_status == "RJCT" else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.11">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>{escape(message_id)}</MsgId>
      <CreDtTm>{created}</CreDtTm>
    </GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>{escape(original_message_id)}</OrgnlMsgId>
      <OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
      <GrpSts>{group_status}</GrpSts>
      {group_reason}
    </OrgnlGrpInfAndSts>
{payment_info}
  </CstmrPmtStsRpt>
</Document>
""".encode()


EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "bank-returns"


def write_examples() -> None:
    """The committed examples: a camt.054 returning one transfer (AC04, account closed) and
    a pain.002 rejecting one (AC01, incorrect account number)."""
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    (EXAMPLES / "camt054-retour.xml").write_bytes(
        camt054([("RUN-20250314-093000-A1B2-1", Decimal("100.03"), "AC04")])
    )
    (EXAMPLES / "pain002-rejet.xml").write_bytes(
        pain002(
            [("RUN-20250314-093000-A1B2-2", Decimal("56.40"), "AC01")],
            original_message_id="RUN-20250314-093000-A1B2-0123456789",
        )
    )


if __name__ == "__main__":
    write_examples()
