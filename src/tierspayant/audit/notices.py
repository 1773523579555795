"""What the breach report turns into: CSV, JSON, the GDPR article 33 notification draft for
each insurer (Markdown and PDF, in French) and the article 34 letter to each person (PDF, in
French, plain language, the NIR masked).

Everything is written into a fresh temporary directory beside the target and renamed into
place at the end, so a failure leaves no partial pack. PDFs use fpdf2's core Helvetica
(Latin-1): the few typographic characters outside it are replaced (:func:`latin1`).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from tierspayant.audit.breach import BreachReport, InsurerExposure, PersonExposure
from tierspayant.crypto.fields import DecryptionError
from tierspayant.crypto.keys import KeySet
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.nir import mask_nir

PARIS = ZoneInfo("Europe/Paris")

#: Plain-language names of the fields a disclosure may carry (letters to people).
FIELD_PLAIN = {
    "coverage_status": "si vous étiez couvert(e) ou non par votre complémentaire santé",
    "rights_period": "les dates de début et de fin de vos droits",
    "tiers_payant_domains": "les soins pour lesquels vous n'avancez pas les frais "
    "(pharmacie, optique...)",
    "amc_number": "le numéro de votre organisme complémentaire",
}
#: Categories of data, as named in the notification to the authority.
FIELD_CATEGORY = {
    "coverage_status": "statut de couverture à une date donnée",
    "rights_period": "période d'ouverture des droits",
    "tiers_payant_domains": "domaines de soins ouverts au tiers payant",
    "amc_number": "numéro de l'organisme complémentaire (AMC)",
}
OUTCOME_LABEL = {
    "no_match": "aucune correspondance",
    "ambiguous": "réponse ambiguë (rang requis), sans personne désignée",
    "invalid_input": "saisie invalide",
    "refused_quota": "refus : quota atteint",
    "refused_guard": "refus : contrôle indisponible",
}
_REPLACEMENTS = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "œ": "oe",
        "Œ": "OE",
        "€": "EUR",
        "\u202f": " ",
        "\u2009": " ",
    }
)


def latin1(text: str) -> str:
    """``text`` in the core PDF font's Latin-1 (typographic marks replaced, others as ``?``)."""
    return text.translate(_REPLACEMENTS).encode("latin-1", "replace").decode("latin-1")


def _day(moment: datetime.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y")


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


# -- CSV and JSON ------------------------------------------------------------------------------

CSV_COLUMNS = [
    "amc_number",
    "insurer",
    "beneficiary_id",
    "fields_disclosed",
    "disclosures",
    "first_disclosed_at",
    "last_disclosed_at",
]


def report_csv(report: BreachReport) -> str:
    """One line per person exposed, grouped by insurer (``fields_disclosed`` joined by ``|``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for insurer in report.insurers:
        for person in insurer.people:
            writer.writerow(
                [
                    insurer.amc_number,
                    insurer.name,
                    person.beneficiary_id,
                    "|".join(person.fields),
                    person.disclosures,
                    person.first_at.astimezone(datetime.UTC).isoformat(),
                    person.last_at.astimezone(datetime.UTC).isoformat(),
                ]
            )
    return buffer.getvalue()


def report_json(report: BreachReport) -> str:
    """The report as indented JSON (``--format json``)."""
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"


# -- article 33: notification to the supervisory authority (CNIL), one per insurer -------------


def article33_markdown(report: BreachReport, insurer: InsurerExposure) -> str:
    """The draft notification of ``insurer`` (controller), in French Markdown. Facts come from
    the log; what only the controller knows is left as ``[à compléter]``."""
    scope = report.scope
    attempts = sum(report.attempts.values())
    professionals = (
        ", ".join(report.professionals) or "aucun compte nommé (périmètre par adresse IP)"
    )
    categories = "\n".join(
        f"- {FIELD_CATEGORY.get(name, name)} : {count} communication(s)"
        for name, count in sorted(insurer.field_counts.items())
    )
    attempt_lines = "\n".join(
        f"  - {OUTCOME_LABEL.get(outcome, outcome)} : {count}"
        for outcome, count in sorted(report.attempts.items())
    )
    return f"""# Notification de violation de données personnelles (RGPD, article 33) — projet

- **Responsable de traitement :** {insurer.name} (organisme complémentaire,
  numéro AMC {insurer.amc_number})
- **Sous-traitant :** l'opérateur de tiers payant (plateforme tierspayant)
- **Projet établi le :** {_when(report.generated_at)} (heure de Paris), à partir du journal
  des divulgations

## 1. Nature de la violation

Violation de **confidentialité**. Entre le {_when(scope.since)} et le {_when(scope.until)},
le périmètre suivant a été utilisé pour interroger les droits de bénéficiaires :
{scope.describe()}.

Professionnel(s) concerné(s) : {professionals}.

Chaque interrogation devait fournir le NIR et la date de naissance de la personne : la plateforme
confirme des droits, elle ne révèle ni nom, ni adresse, ni NIR. Les données ci-dessous sont
donc celles qui ont été **communiquées** en réponse ; le NIR et la date de naissance étaient
déjà connus de l'auteur des interrogations.

## 2. Personnes et enregistrements concernés

- Personnes concernées (bénéficiaires de {insurer.name}) : **{len(insurer.people)}**
  (nombre exact ; liste jointe par identifiant interne)
- Enregistrements concernés (réponses ayant communiqué des données) : **{insurer.records}**

Catégories de données communiquées :
{categories or "- aucune"}

Tentatives sans communication de données sur une personne désignée, sur l'ensemble du
périmètre (tous organismes confondus ; elles ne sont pas comptées comme personnes concernées) :
**{attempts}**
{attempt_lines}

## 3. Conséquences probables

Les données communiquées révèlent l'affiliation d'une personne à {insurer.name} et l'état de
ses droits. Associées au NIR et à la date de naissance déjà détenus par l'auteur, elles
permettent des tentatives d'hameçonnage ciblé (faux messages de la complémentaire, demandes de
coordonnées bancaires) et d'usurpation d'identité. Aucune donnée de santé (actes, soins),
aucune coordonnée bancaire et aucune adresse n'ont été communiquées.

## 4. Mesures prises ou envisagées

- Identification exacte des personnes concernées à partir du journal des divulgations, dont
  l'intégrité est vérifiée (chaîne de hachage et points de contrôle signés :
  `tierspayant audit-verify`).
- Information individuelle des personnes concernées (article 34) : lettres jointes.
- [à compléter : suspension du compte, révocation des jetons, réinitialisation des facteurs
  d'authentification, dépôt de plainte]

## 5. Contact

Délégué à la protection des données : [à compléter]
"""


def _markdown_pdf(markdown: str) -> bytes:
    """A plain PDF of the Markdown above: ``#`` headings, ``-`` bullets, ``**bold**``."""
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    for block in markdown.split("\n\n"):
        text = " ".join(line.strip() for line in block.strip().splitlines())
        if not text:
            continue
        if block.startswith("# "):
            pdf.set_font("Helvetica", "B", 14)
            pdf.multi_cell(0, 7, latin1(text[2:]), new_x="LMARGIN", new_y="NEXT")
        elif block.startswith("## "):
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, latin1(text[3:]), new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("Helvetica", "", 10)
            items: list[str] = []
            for line in block.strip("\n").splitlines():
                if items and not line.lstrip().startswith("- "):
                    items[-1] += " " + line.strip()  # Markdown: a wrapped line continues
                else:
                    items.append(line.strip())
            for item in items:
                pdf.multi_cell(
                    0,
                    5,
                    latin1(item.replace("`", "")),
                    markdown=True,
                    new_x="LMARGIN",
                    new_y="NEXT",
                )
        pdf.ln(2)
    return bytes(pdf.output())


# -- article 34: a letter to each person ------------------------------------------------------


def article34_letter(
    *,
    insurer: InsurerExposure,
    person: PersonExposure,
    beneficiary: Beneficiary,
    masked_nir: str,
    report: BreachReport,
) -> bytes:
    """The letter to one person (PDF): what happened, what was seen, what it means for them,
    what to do. Plain words; the NIR is masked; no other person is mentioned."""
    pdf = FPDF(format="A4")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.multi_cell(0, 5, latin1(insurer.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        0, 5, latin1(f"Numéro d'organisme : {insurer.amc_number}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(8)
    pdf.set_x(110)
    pdf.multi_cell(
        0,
        5,
        latin1(
            f"{beneficiary.first_name} {beneficiary.last_name}\n(adresse : selon notre fichier)"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(6)
    pdf.multi_cell(0, 5, latin1(f"Le {_day(report.generated_at)}"), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0,
        5,
        latin1(f"Votre numéro de sécurité sociale (masqué) : {masked_nir}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(
        0,
        6,
        latin1("Des informations sur vos droits ont été consultées sans raison valable"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10.5)
    seen = "\n".join(f"  - {FIELD_PLAIN.get(name, name)}" for name in person.fields)
    when = (
        f"le {_when(person.first_at)}"
        if person.disclosures == 1
        else f"{person.disclosures} fois, entre le {_when(person.first_at)} et le "
        f"{_when(person.last_at)}"
    )
    paragraphs = [
        "Madame, Monsieur,",
        "Nous vous écrivons parce que des informations vous concernant ont été consultées par "
        "une personne qui n'aurait pas dû le faire. Le compte d'un professionnel de santé a été "
        "utilisé de façon anormale pour interroger vos droits auprès de votre complémentaire "
        "santé.",
        f"Ce qui a été vu, {when} :\n{seen}",
        "Ce qui n'a PAS été communiqué : ni vos soins ou remboursements, ni votre adresse, ni "
        "vos coordonnées bancaires. Pour faire cette recherche, la personne connaissait déjà "
        "votre numéro de sécurité sociale et votre date de naissance.",
        "Ce que cela peut entraîner pour vous : quelqu'un pourrait se faire passer pour votre "
        "complémentaire santé, votre caisse d'assurance maladie ou un professionnel de santé, "
        "par téléphone, SMS ou courriel, pour obtenir d'autres informations ou de l'argent.",
        "Ce que nous vous conseillons :\n"
        "  - ne communiquez jamais vos coordonnées bancaires, mots de passe ou codes reçus par "
        "SMS à quelqu'un qui vous contacte, même s'il connaît votre numéro de sécurité sociale ;\n"
        "  - en cas de doute, raccrochez et rappelez votre complémentaire au numéro habituel ;\n"
        "  - signalez les messages suspects sur cybermalveillance.gouv.fr.",
        "Ce que nous avons fait : nous avons identifié exactement les personnes concernées, "
        "bloqué l'accès utilisé et informé la CNIL.",
        "Vos droits : vous pouvez nous demander la liste des consultations de vos droits, et "
        "introduire une réclamation auprès de la CNIL (www.cnil.fr).",
        f"Pour toute question, contactez {insurer.name} ou son délégué à la protection des "
        "données, en rappelant la référence ci-dessous.",
        "Nous vous prions de nous excuser pour cette situation.",
    ]
    for paragraph in paragraphs:
        pdf.multi_cell(0, 5.2, latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2.5)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        0, 4, latin1(f"Référence : {person.beneficiary_id}"), new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())


def _beneficiaries(ids: list[str]) -> Iterator[Beneficiary]:
    for start in range(0, len(ids), 1000):
        yield from Beneficiary.objects.filter(pk__in=ids[start : start + 1000])


def write_report_pack(
    report: BreachReport, target: Path, *, encryption_keys: KeySet, letters: bool = True
) -> list[Path]:
    """Write the whole pack into ``target`` (which must not exist or be empty): the CSV and
    JSON reports, and per insurer ``<AMC>/notification-art33.{md,pdf}`` and
    ``<AMC>/lettres-art34/<beneficiary id>.pdf``. All or nothing: built in a temporary
    directory, renamed into place at the end. Returns the files written (final paths)."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} is not empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".breach-", dir=target.parent))
    try:
        (staging / "breach-report.csv").write_text(report_csv(report), encoding="utf-8")
        (staging / "breach-report.json").write_text(report_json(report), encoding="utf-8")
        for insurer in report.insurers:
            folder = staging / insurer.amc_number
            folder.mkdir()
            markdown = article33_markdown(report, insurer)
            (folder / "notification-art33.md").write_text(markdown, encoding="utf-8")
            (folder / "notification-art33.pdf").write_bytes(_markdown_pdf(markdown))
            if not letters:
                continue
            (folder / "lettres-art34").mkdir()
            by_id = {p.beneficiary_id: p for p in insurer.people}
            for beneficiary in _beneficiaries(list(by_id)):
                try:
                    masked = mask_nir(beneficiary.nir(encryption_keys))
                except DecryptionError:
                    masked = "***"
                person = by_id[str(beneficiary.pk)]
                (folder / "lettres-art34" / f"{person.beneficiary_id}.pdf").write_bytes(
                    article34_letter(
                        insurer=insurer,
                        person=person,
                        beneficiary=beneficiary,
                        masked_nir=masked,
                        report=report,
                    )
                )
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(p for p in target.rglob("*") if p.is_file())
