"""An alert's evidence reads as a French sentence with its figures (issue 13 item 13): one
sentence per alert kind, for the evidence the real detectors emit."""

from __future__ import annotations

import re

import pytest

from tierspayant.guard import quotas
from tierspayant.guard.choices import KIND_SEVERITY, AlertKind
from tierspayant.guard.detectors import (
    Features,
    Finding,
    campaign_finding,
    evaluate,
    follow_up_finding,
)
from tierspayant.guard.evidence import QUOTA_SENTENCES, SENTENCES, describe_evidence
from tierspayant.guard.policy import DEFAULT_POLICY
from tierspayant.providers.choices import Profession

K = AlertKind
CASES = [
    (
        K.QUOTA,
        {"quota": "daily_quota"},
        "Quota quotidien de vérifications du compte atteint : vérification refusée.",
    ),
    (
        K.BURST,
        {"count": 12, "threshold": 10, "window_minutes": 10},
        "12 vérifications en 10 minutes (seuil : 10).",
    ),
    (
        K.VOLUME_HOUR,
        {"count": 25, "threshold": 20, "window_minutes": 60},
        "25 vérifications dans l'heure, au-delà de ce qui est habituel pour ce compte "
        "(seuil : 20).",
    ),
    (
        K.VOLUME_DAY,
        {"count": 1250, "threshold": 1200, "window_minutes": 1440},
        "1\u202f250 vérifications dans la journée, au-delà de ce qui est habituel pour ce compte "
        "(seuil : 1\u202f200).",
    ),
    (
        K.NO_MATCH_RATIO,
        {"count": 15, "lookups": 18, "threshold": 10, "ratio": 0.83, "window_minutes": 60},
        "15 réponses sans correspondance sur 18 vérifications dans l'heure, soit 83 % "
        "(seuil : 10 réponses sans correspondance).",
    ),
    (
        K.NIR_PATTERN,
        {"count": 6, "threshold": 4, "window_minutes": 60},
        "6 NIR différents et voisins (même sexe, année et mois de naissance, même commune) "
        "vérifiés dans l'heure (seuil : 4).",
    ),
    (
        K.UNUSUAL_HOUR,
        {"hour": 3, "usual_from": 7, "usual_to": 18},
        "Vérifications à 3 h, alors que ce compte travaille habituellement de 7 h à 19 h.",
    ),
    (
        K.NEW_NETWORK,
        {"count": 1},
        "Première vérification depuis une adresse IP jamais vue pour ce compte.",
    ),
    (
        K.NEW_DEVICE,
        {"count": 1},
        "Première vérification depuis un navigateur ou un logiciel jamais vu pour ce compte.",
    ),
    (
        K.MANY_NETWORKS,
        {"networks": 5, "threshold": 4, "window_minutes": 1440},
        "5 adresses IP différentes dans la journée (seuil : 4).",
    ),
    (
        K.CONCURRENT_NETWORKS,
        {"networks": 2, "threshold": 2, "window_minutes": 10},
        "2 réseaux éloignés utilisés en même temps en 10 minutes (seuil : 2).",
    ),
    (
        K.SHARED_NETWORK,
        {"practices": 3, "threshold": 3, "window_minutes": 60},
        "La même adresse IP a servi à 3 cabinets différents dans l'heure (seuil : 3).",
    ),
    (
        K.CANARY,
        {"count": 1},
        "Consultation d'un bénéficiaire leurre : un dossier qu'aucune carte réelle ne porte.",
    ),
    (
        K.CAMPAIGN,
        {"accounts": 4, "threshold": 3, "window_minutes": 120},
        "4 comptes en alerte de gravité moyenne ou plus en 2 heures (seuil : 3 comptes).",
    ),
    (
        K.LOW_FOLLOW_UP,
        {
            "lookups": 40,
            "followed": 2,
            "share": 0.05,
            "threshold": 0.2,
            "min_lookups": 30,
            "window_minutes": 1440,
        },
        "2 vérifications sur 40 (soit 5 %) suivies d'un accord préalable, d'une facture ou "
        "d'une facture de lot pour le même bénéficiaire dans les 24 heures (seuil : 20 % à "
        "partir de 30 vérifications).",
    ),
    (
        K.TOKEN_NETWORKS,
        {"networks": 3, "threshold": 3, "window_minutes": 1440},
        "Un même jeton d'API utilisé depuis 3 réseaux différents dans la journée (seuil : 3) : "
        "jetons révoqués.",
    ),
    (
        K.TOKEN_FOREIGN_NETWORK,
        {"window_minutes": 30},
        "Un jeton d'API utilisé depuis un autre réseau que celui de la session ouverte sur le "
        "portail par son titulaire (dans les 30 minutes) : jeton révoqué.",
    ),
    (
        K.ESCALATION,
        {"count": 2, "threshold": 2},
        "2 alertes différentes de gravité moyenne dans la journée (seuil : 2) : compte suspendu.",
    ),
]


@pytest.mark.parametrize(("kind", "evidence", "sentence"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_reads_as_a_sentence(kind, evidence, sentence) -> None:
    assert describe_evidence(kind, evidence) == sentence


def test_the_table_covers_every_kind() -> None:
    assert sorted(c[0] for c in CASES) == sorted(AlertKind)
    assert set(SENTENCES) == set(AlertKind)


def emitted_findings() -> list[Finding]:
    """What the real detectors emit: every detector tripped at once, the campaign, and a
    quota refusal for each quota reason (``services.record_refusal``'s evidence)."""
    everything = Features(
        burst=50,
        hour=40,
        day=100,
        misses_hour=30,
        pattern=5,
        local_hour=3,
        new_network=True,
        new_device=True,
        networks_today=4,
        networks_10min=2,
        practices_on_network=3,
        canary=True,
        token_networks=3,
        token_foreign_network=True,
    )
    found = evaluate(
        everything,
        floors=DEFAULT_POLICY.floor(Profession.OPTICIAN),
        baseline=None,
        policy=DEFAULT_POLICY,
    )
    campaign = campaign_finding(7, policy=DEFAULT_POLICY)
    assert campaign is not None
    low = follow_up_finding(40, 2, policy=DEFAULT_POLICY)
    assert low is not None
    escalation = Finding(  # what alerts.respond adds on the second medium finding of a day
        kind=K.ESCALATION,
        severity=KIND_SEVERITY[K.ESCALATION],
        evidence={"count": 2, "threshold": 2},
    )
    quota = [
        Finding(kind=K.QUOTA, severity=KIND_SEVERITY[K.QUOTA], evidence={"quota": reason})
        for reason in quotas._MESSAGES  # every reason a QuotaExceeded can carry
    ]
    return [*found, campaign, low, escalation, *quota]


def test_the_detectors_emit_every_kind() -> None:
    # A new kind must be emitted here (and so walked below) or this fails.
    assert {f.kind for f in emitted_findings()} == set(AlertKind)


ONE_EVENT = {
    K.CANARY,
    K.NEW_NETWORK,
    K.NEW_DEVICE,
    K.TOKEN_FOREIGN_NETWORK,
}  # evidence {"count": 1}: the event itself


@pytest.mark.parametrize("finding", emitted_findings(), ids=lambda f: f.kind)
def test_every_emitted_evidence_reads_with_its_figures(finding: Finding) -> None:
    sentence = describe_evidence(finding.kind, finding.evidence)
    assert not sentence.startswith(("Éléments relevés", "Aucun élément")), sentence  # its own
    assert not re.search(r"[{}\[\]_]|'\w+'", sentence), sentence  # no dict, no key
    # Every count and threshold is in the sentence (windows read as phrases: "dans l'heure").
    for key, value in finding.evidence.items():
        if key in {"window_minutes", "usual_to"} or finding.kind in ONE_EVENT:
            continue
        if isinstance(value, int):
            assert re.search(rf"(?<!\d){value}(?!\d)", sentence), (key, value, sentence)


def test_every_quota_reason_has_its_sentence() -> None:
    assert set(QUOTA_SENTENCES) == set(quotas._MESSAGES)


@pytest.mark.parametrize(
    ("kind", "evidence", "sentence"),
    [
        (K.BURST, {"count": 12}, "Éléments relevés : nombre : 12."),  # an older shape
        (K.UNUSUAL_HOUR, {"hour": "trois"}, "Éléments relevés : heure : trois."),
        ("retired_kind", {"count": 3, "extra": 1}, "Éléments relevés : nombre : 3, extra : 1."),
        (K.QUOTA, {"quota": "unknown"}, "Éléments relevés : quota : unknown."),
        (
            K.CANARY,
            {},
            "Consultation d'un bénéficiaire leurre : un dossier qu'aucune carte réelle ne porte.",
        ),
        (K.BURST, {}, "Aucun élément relevé."),
        (K.BURST, ["not", "a", "dict"], "Aucun élément relevé."),
    ],
)
def test_unreadable_evidence_still_reads_in_french(kind, evidence, sentence) -> None:
    assert describe_evidence(kind, evidence) == sentence


def test_the_security_teams_email_reads_the_evidence(optician, settings) -> None:
    import dataclasses

    from django.core import mail
    from django.utils import timezone

    from tierspayant.guard.alerts import respond
    from tierspayant.guard.choices import Action, Severity
    from tierspayant.guard.counters import Counters

    policy = dataclasses.replace(
        DEFAULT_POLICY,
        actions={**DEFAULT_POLICY.actions, Severity.HIGH: Action.ALERT},
        security_emails=("securite@example.test",),
    )
    burst = Finding(
        kind=K.BURST,
        severity=Severity.HIGH,
        evidence={"count": 12, "threshold": 10, "window_minutes": 10},
    )
    now = timezone.now()
    respond(
        [burst],
        counters=Counters(settings.TIERSPAYANT_QUOTA_STORAGE_URI),
        professional=optician,
        channel="portal",
        now=now,
        day=now.date(),
        policy=policy,
    )
    (email,) = mail.outbox
    assert email.subject.endswith(f"alerte « Rafale de vérifications » sur le compte {optician.pk}")
    assert "Preuves : 12 vérifications en 10 minutes (seuil : 10)." in email.body
    assert "window_minutes" not in email.body
