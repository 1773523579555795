"""Tiers payant attestations: the standard block, the DataMatrix carrying it, the PDF and
the JSON for insurers' member apps; issuing an insurer's attestations for a year; the
back-office download (counted and logged); the directory file.

Layout, labels and DataMatrix tags are data (:mod:`.layout`); docs/attestations.md gives
the formats with examples. An attestation is made from the register when asked for and
never stored in the database.
"""

from __future__ import annotations

import datetime
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from fpdf import FPDF
from PIL import Image
from pystrich.datamatrix import DataMatrixEncoder
from pystrich.datamatrix.data import DataMatrixData

from tierspayant.attestations import layout
from tierspayant.attestations.selectors import family_of, insurer_families
from tierspayant.audit.choices import Outcome, Purpose
from tierspayant.audit.services import RequestContext, record_disclosure
from tierspayant.crypto.keys import KeySet
from tierspayant.guard.services import consume_read_quota
from tierspayant.registry.choices import Domain, Quality
from tierspayant.registry.models import Beneficiary, Contract, Insurer

_QUALITY_ORDER = {q.value: i for i, q in enumerate(Quality)}
_DOMAINS = [d.value for d in Domain]


@dataclass(frozen=True)
class Block:
    """The standard block, as printed (every value a string, "" when unknown): AMC number,
    convention type, secondary routing criterion, member number, validity (dates
    ``JJ/MM/AAAA``, inclusive)."""

    amc_number: str
    convention_type: str
    routing_criterion: str
    member_number: str
    valid_from: str
    valid_to: str


@dataclass(frozen=True)
class Member:
    """A beneficiary as printed: names, birth date and validity (``JJ/MM/AAAA``), rang,
    quality code, and per domain of the contract its formula (``layout.OPEN_WITHOUT_FORMULA``
    when the member file gave none)."""

    last_name: str
    first_name: str
    birth_date: str
    rang: int
    quality: str
    valid_from: str
    valid_to: str
    formulas: dict[str, str]


@dataclass(frozen=True)
class Attestation:
    """One family's attestation for ``year``. ``family_id``: the first beneficiary's internal
    id (names the files; no personal data); ``domains``: the contract's open domains."""

    family_id: str
    year: int
    insurer_name: str
    block: Block
    responsible: bool
    domains: list[str]
    members: list[Member]
    amo_regime: str = ""
    amo_fund: str = ""
    datamatrix: str = field(default="")


def _printed(day: datetime.date) -> str:
    return day.strftime(layout.DATE_FORMAT)


def _validity(b: Beneficiary, contract: Contract, year: int) -> tuple[datetime.date, datetime.date]:
    """The days of ``year`` on which ``b`` has rights (its own and the contract's)."""
    start = max(b.rights_start, contract.valid_from, datetime.date(year, 1, 1))
    ends = [datetime.date(year, 12, 31), b.rights_end, contract.valid_to]
    return start, min(d for d in ends if d is not None)


def datamatrix_text(block: Block) -> str:
    """The DataMatrix content: ``ATP1|AMC:...|TC:...|CSR:...|ADH:...|DEB:...|FIN:...``, each
    value exactly as printed (:data:`layout.BLOCK` order)."""
    tag = layout.DATAMATRIX_TAG_SEPARATOR
    values = asdict(block)
    return layout.DATAMATRIX_SEPARATOR.join(
        [layout.DATAMATRIX_PREFIX] + [f"{f.tag}{tag}{values[f.key]}" for f in layout.BLOCK]
    )


def parse_datamatrix(text: str) -> Block:
    """The block read back from a DataMatrix's text. Raises ``ValueError`` (in French,
    naming the part) when it is not an attestation code of this layout."""
    parts = text.split(layout.DATAMATRIX_SEPARATOR)
    if parts[0] != layout.DATAMATRIX_PREFIX:
        raise ValueError(f"code DataMatrix : préfixe « {layout.DATAMATRIX_PREFIX} » attendu")
    if len(parts) != len(layout.BLOCK) + 1:
        raise ValueError(f"code DataMatrix : {len(layout.BLOCK)} champs attendus")
    values = {}
    for position, (part, spec) in enumerate(zip(parts[1:], layout.BLOCK, strict=True), 2):
        tag, sep, value = part.partition(layout.DATAMATRIX_TAG_SEPARATOR)
        if not sep or tag != spec.tag:
            raise ValueError(f"code DataMatrix, champ {position} : « {spec.tag}: » attendu")
        values[spec.key] = value
    return Block(**values)


def build_attestation(keys: KeySet, family: list[Beneficiary], *, year: int) -> Attestation | None:
    """The attestation of ``family`` (one contract; ``insurer_families``) for ``year``, or
    None when no member has rights that year or all are suspended. Decrypts each member's
    birth date and the member number (``keys``: the field keys). The block's validity runs
    from the earliest member's first day to the latest member's last day of ``year``."""
    contract = family[0].contract
    kept = [b for b in family if not b.tiers_payant_suspended]
    periods = [(b, *_validity(b, contract, year)) for b in kept]
    periods = [(b, start, end) for b, start, end in periods if start <= end]
    if not periods:
        return None
    members: list[tuple[tuple[int, str, int], Member]] = []
    for b, start, end in periods:
        born = b.birth_date(keys)
        given = b.formulas_by_domain()
        formulas = {
            d: given.get(d, layout.OPEN_WITHOUT_FORMULA)
            for d in _DOMAINS
            if d in contract.tiers_payant_domains
        }
        member = Member(
            b.last_name,
            b.first_name,
            _printed(born),
            b.rang,
            b.quality,
            _printed(start),
            _printed(end),
            formulas,
        )
        members.append(((_QUALITY_ORDER.get(b.quality, 9), born.isoformat(), b.rang), member))
    members.sort(key=lambda pair: pair[0])
    first = periods[0][0]
    block = Block(
        amc_number=contract.insurer.amc_number,
        convention_type=contract.convention_type,
        routing_criterion=contract.routing_criterion,
        member_number=first.member_number(keys),
        valid_from=_printed(min(start for _, start, _ in periods)),
        valid_to=_printed(max(end for _, _, end in periods)),
    )
    return Attestation(
        family_id=str(min(b.pk for b, _, _ in periods)),
        year=year,
        insurer_name=contract.insurer.name,
        block=block,
        responsible=contract.responsible,
        domains=[d for d in _DOMAINS if d in contract.tiers_payant_domains],
        members=[m for _, m in members],
        amo_regime=first.amo_regime,
        amo_fund=first.amo_fund,
        datamatrix=datamatrix_text(block),
    )


def datamatrix_image(text: str) -> Image.Image:
    """The DataMatrix of ``text`` (pystrich, ECC 200), one pixel per module, quiet zone
    included: scaled without smoothing when printed. Byte mode: same symbol size for this
    content, and about 3 times faster than pystrich's optimising mode selection."""
    data = DataMatrixData(text, auto_encoding=True)
    image: Image.Image = DataMatrixEncoder(data, force_byte_mode=True).get_pilimage(cellsize=1)
    return image


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: anything else becomes ``?`` (never an error)."""
    return text.encode("latin-1", "replace").decode("latin-1")


def attestation_pdf(attestation: Attestation) -> bytes:
    """The attestation as a one-page A4 PDF (fpdf2, core font): title, insurer, the standard
    block (every label, even when its value is empty), the DataMatrix, the responsible-contract
    mark, the beneficiaries with their validity and a column per domain with its formula."""
    page = layout.PAGE
    pdf = FPDF(format="A4")
    pdf.set_compression(False)  # faster; the page is small (a few kB) either way
    pdf.set_creation_date(datetime.datetime(attestation.year, 1, 1, tzinfo=datetime.UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.text(*page.title, _latin1(layout.TITLE.format(year=attestation.year)))
    pdf.set_font("Helvetica", "", 10)
    pdf.text(*page.insurer, _latin1(attestation.insurer_name))
    x, y, step = page.block
    values = asdict(attestation.block)
    for n, spec in enumerate(layout.BLOCK):  # one text run a line: the cost is per run
        pdf.text(x, y + n * step, _latin1(f"{spec.label} : {values[spec.key]}"))
    dm_x, dm_y, side = page.datamatrix
    pdf.image(datamatrix_image(attestation.datamatrix), x=dm_x, y=dm_y, w=side, h=side)
    mark = layout.RESPONSIBLE_VALUES[attestation.responsible]
    pdf.text(*page.responsible, _latin1(f"{layout.RESPONSIBLE_LABEL} : {mark}"))
    # The table in a fixed-width font, one text run a row (columns padded to their width).
    tx, ty, row = page.table
    widths = list(page.table_columns) + [page.domain_column] * len(attestation.domains)
    headings = list(layout.BENEFICIARY_COLUMNS) + [
        layout.DOMAIN_HEADINGS[d] for d in attestation.domains
    ]
    pdf.set_font("Courier", "B", 8)
    pdf.text(tx, ty, _latin1(_padded(widths, headings)))
    pdf.set_font("Courier", "", 8)
    for n, m in enumerate(attestation.members, 1):
        cells = [
            m.last_name,
            m.first_name,
            m.birth_date,
            str(m.rang),
            f"{m.valid_from} - {m.valid_to}",
        ] + [m.formulas.get(d, layout.CLOSED) for d in attestation.domains]
        pdf.text(tx, ty + n * row, _latin1(_padded(widths, cells)))
    pdf.line(tx, ty + 1.5, tx + sum(widths) * layout.COURIER_8_MM, ty + 1.5)
    pdf.set_font("Helvetica", "", 7)
    pdf.text(*page.footer, _latin1(layout.FOOTER))
    return bytes(pdf.output())


def _padded(widths: list[int], cells: list[str]) -> str:
    """The cells of a row, each cut to its width less one and padded to it (characters)."""
    return "".join(
        text[: width - 1].ljust(width) for width, text in zip(widths, cells, strict=True)
    )


def attestation_json(attestation: Attestation) -> dict[str, Any]:
    """The attestation for member apps: ``{"format": "ATP1", "year", "insurer", "block"
    (as printed), "responsible_contract", "amo": {"regime", "fund"}, "domains",
    "beneficiaries": [{"last_name", "first_name", "birth_date", "rang", "quality",
    "valid_from", "valid_to", "formulas": {domain: formula}}], "datamatrix"}`` (dates
    ``JJ/MM/AAAA`` as printed)."""
    return {
        "format": layout.DATAMATRIX_PREFIX,
        "year": attestation.year,
        "insurer": attestation.insurer_name,
        "block": asdict(attestation.block),
        "responsible_contract": attestation.responsible,
        "amo": {"regime": attestation.amo_regime, "fund": attestation.amo_fund},
        "domains": attestation.domains,
        "beneficiaries": [asdict(m) for m in attestation.members],
        "datamatrix": attestation.datamatrix,
    }


# -- issuing an insurer's attestations ---------------------------------------------------


@dataclass
class IssueSummary:
    """Counts of an issuing run: ``families`` read, ``issued`` attestations written (a PDF
    and a JSON each), ``skipped`` families without rights that year or all suspended;
    ``seconds`` wall time; ``directory`` where the files are."""

    families: int = 0
    issued: int = 0
    skipped: int = 0
    seconds: float = 0.0
    directory: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["per_s"] = round(self.issued / self.seconds, 1) if self.seconds else 0.0
        return data


def _write(out: Path, attestation: Attestation, formats: tuple[str, ...]) -> None:
    if "pdf" in formats:
        (out / f"{attestation.family_id}.pdf").write_bytes(attestation_pdf(attestation))
    if "json" in formats:
        (out / f"{attestation.family_id}.json").write_text(
            json.dumps(attestation_json(attestation), ensure_ascii=False), encoding="utf-8"
        )


def _write_batch(out: str, batch: list[Attestation], formats: tuple[str, ...]) -> int:
    for attestation in batch:
        _write(Path(out), attestation, formats)
    return len(batch)


def _batches(items: Iterable[Attestation | None], size: int) -> Iterator[list[Attestation]]:
    batch: list[Attestation] = []
    for item in items:
        if item is not None:
            batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def issue_attestations(
    keys: KeySet,
    *,
    insurer: Insurer,
    year: int,
    out: Path,
    formats: tuple[str, ...] = ("pdf", "json"),
    workers: int = 0,
    batch_size: int = 200,
    progress: Callable[[int], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> IssueSummary:
    """Write ``out/<family id>.pdf`` and ``.json`` for each family of ``insurer`` with rights
    in ``year`` (``out`` created if missing). This process reads and decrypts; with
    ``workers`` > 0 that many processes render and write the files (PDF and DataMatrix are
    pure CPU). ``progress`` gets the families done per batch. Re-running overwrites the same
    files (names are the families' first internal ids)."""
    import time

    tick = clock or time.perf_counter
    started = tick()
    out.mkdir(parents=True, exist_ok=True)
    summary = IssueSummary(directory=str(out))

    def built() -> Iterator[Attestation | None]:
        for family in insurer_families(insurer, year=year):
            summary.families += 1
            attestation = build_attestation(keys, family, year=year)
            if attestation is None:
                summary.skipped += 1
                if progress:
                    progress(1)
            yield attestation

    def done(count: int) -> None:
        summary.issued += count
        if progress:
            progress(count)

    if workers <= 0:
        for batch in _batches(built(), batch_size):
            done(_write_batch(str(out), batch, formats))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            pending = []
            for batch in _batches(built(), batch_size):
                pending.append(pool.submit(_write_batch, str(out), batch, formats))
                while len(pending) > 2 * workers:
                    done(pending.pop(0).result())
            for future in pending:
                done(future.result())
    summary.seconds = tick() - started
    return summary


#: Rendering (PDF, DataMatrix) is about three quarters of the work: one worker per core (the
#: reading process mostly waits on them), at most 8.
DEFAULT_WORKERS = min(8, os.cpu_count() or 1)


# -- the back-office download: counted and logged ------------------------------------------


class AttestationUnavailable(LookupError):
    """The beneficiary has no rights in the year asked for (or is suspended): nothing to
    issue. The message is in French and names no one."""


def read_attestation_as_staff(
    keys: KeySet,
    *,
    staff_id: int,
    beneficiary: Beneficiary,
    year: int,
    context: RequestContext,
    now: datetime.datetime,
    quota_storage_uri: str,
    per_hour: int,
    per_day: int,
) -> bytes:
    """The PDF attestation of ``beneficiary``'s family for ``year``, for a back-office user
    (the caller has checked the beneficiary is theirs to see). Counted against the staff
    member's read quota (reader ``staff:<id>``, shared with the access histories) and logged,
    one disclosure row per member shown (purpose ``attestation``). Raises
    ``guard.QuotaExceeded`` / ``guard.GuardUnavailable`` (a refusal row is written) or
    :class:`AttestationUnavailable`."""
    from tierspayant.guard.errors import GuardUnavailable, QuotaExceeded

    def log(outcome: Outcome, who: Beneficiary | None = None) -> int:
        return record_disclosure(
            context=context,
            professional=None,
            purpose=Purpose.ATTESTATION,
            outcome=outcome,
            occurred_at=now,
            beneficiary=who,
            fields_disclosed=["attestation"] if who is not None else [],
            reason=f"staff:{staff_id}",
        )

    try:
        consume_read_quota(
            storage_uri=quota_storage_uri,
            reader=f"staff:{staff_id}",
            per_hour=per_hour,
            per_day=per_day,
            now=now,
        )
    except QuotaExceeded:
        with transaction.atomic():
            log(Outcome.REFUSED_QUOTA)
        raise
    except GuardUnavailable:
        with transaction.atomic():
            log(Outcome.REFUSED_GUARD)
        raise
    family = family_of(beneficiary, year=year)
    attestation = build_attestation(keys, family, year=year) if family else None
    if attestation is None:
        raise AttestationUnavailable(f"aucun droit ouvert en {year} : pas d'attestation")
    with transaction.atomic():
        for member in family:
            if not member.tiers_payant_suspended:
                log(Outcome.ATTESTATION_ISSUED, member)
    return attestation_pdf(attestation)


def attestation_filename(beneficiary_id: uuid.UUID | str, year: int) -> str:
    """The download's file name: no personal data."""
    return f"attestation-tiers-payant-{year}-{str(beneficiary_id)[:8]}.pdf"


# -- the directory file (issue 17.6) -------------------------------------------------------

#: The platform's services a practice software calls after reading an attestation: (code,
#: French label, path under the platform's base URL). A service whose path the running
#: platform does not serve is left out of the file (the calculation, CLC, arrives with its
#: own change).
DIRECTORY_SERVICES: tuple[tuple[str, str, str], ...] = (
    ("IDB", "Vérification des droits (API JSON)", "/api/v1/eligibility"),
    ("IDB-FHIR", "Vérification des droits (FHIR)", "/fhir/r4/CoverageEligibilityRequest"),
    ("CLC", "Calcul de la part complémentaire (API JSON)", "/api/v1/calculations"),
    ("PEC", "Demande d'accord préalable (API JSON)", "/api/v1/prior-approvals"),
    ("FACT", "Facture de tiers payant (API JSON)", "/api/v1/claims"),
    ("FACT-FHIR", "Facture / accord préalable (FHIR)", "/fhir/r4/Claim"),
)
DIRECTORY_HEADER = ("numero_amc", "type_convention", "critere_routage", "service", "adresse")


@dataclass(frozen=True)
class DirectoryEntry:
    """One line of the directory file: the routing keys printed on attestations and the
    address of one service for them."""

    amc_number: str
    convention_type: str
    routing_criterion: str
    service: str
    address: str


def served_services() -> list[tuple[str, str, str]]:
    """The :data:`DIRECTORY_SERVICES` this platform serves (their path resolves)."""
    from django.urls import Resolver404, resolve

    found = []
    for code, label, route in DIRECTORY_SERVICES:
        try:
            resolve(route)
        except Resolver404:
            continue
        found.append((code, label, route))
    return found


def directory_entries(base_url: str, *, today: datetime.date) -> list[DirectoryEntry]:
    """Each (AMC number, convention type, routing criterion) of the contracts valid on or
    after ``today`` with a convention type, crossed with each served service, sorted.
    ``base_url``: the platform's public address (``https://...``, no trailing slash needed)."""
    keys = sorted(
        set(
            Contract.objects.exclude(convention_type="")
            .exclude(valid_to__lt=today)
            .values_list("insurer__amc_number", "convention_type", "routing_criterion")
        )
    )
    base = base_url.rstrip("/")
    services = served_services()
    return [
        DirectoryEntry(amc, convention, routing, code, base + route)
        for amc, convention, routing in keys
        for code, _, route in services
    ]


def directory_csv(entries: list[DirectoryEntry]) -> str:
    """The directory as CSV (UTF-8, ``;``, one header row, ``\\n``): see docs/attestations.md."""
    lines = [";".join(DIRECTORY_HEADER)]
    lines += [";".join(astuple_entry(e)) for e in entries]
    return "\n".join(lines) + "\n"


def astuple_entry(entry: DirectoryEntry) -> tuple[str, ...]:
    return (
        entry.amc_number,
        entry.convention_type,
        entry.routing_criterion,
        entry.service,
        entry.address,
    )


def directory_json(entries: list[DirectoryEntry], *, generated: datetime.date) -> str:
    """The directory as JSON: ``{"generated": "AAAA-MM-JJ", "routes": [{"amc_number",
    "convention_type", "routing_criterion", "services": {code: address}}]}``."""
    routes: dict[tuple[str, str, str], dict[str, str]] = {}
    for e in entries:
        routes.setdefault((e.amc_number, e.convention_type, e.routing_criterion), {})[e.service] = (
            e.address
        )
    return json.dumps(
        {
            "generated": generated.isoformat(),
            "routes": [
                {
                    "amc_number": amc,
                    "convention_type": convention,
                    "routing_criterion": routing,
                    "services": services,
                }
                for (amc, convention, routing), services in routes.items()
            ],
        },
        ensure_ascii=False,
        indent=2,
    )
