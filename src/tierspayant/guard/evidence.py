"""An alert's evidence as security staff and insurers read it: one French sentence with its
figures, written by one function per alert kind (:data:`SENTENCES`).

Evidence is the dict a detector put on its finding (``detectors.evaluate``,
``detectors.campaign_finding``, ``services.record_refusal``): counts, thresholds, windows in
minutes, local hours; never personal data. An alert stored with evidence of an older shape (a
key missing, a value of another type) still reads as French, figure by figure: displaying an
alert never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tierspayant.guard.choices import AlertKind

Evidence = Mapping[str, Any]


def _n(value: Any) -> str:
    """An integer with the French thousands separator (narrow no-break space): ``12 345``."""
    return f"{int(value):,}".replace(",", "\u202f")


def _within(minutes: Any) -> str:
    """A detector's window as a French phrase: ``en 10 minutes``, ``dans l'heure``..."""
    minutes = int(minutes)
    if minutes == 60:
        return "dans l'heure"
    if minutes == 1440:
        return "dans la journée"
    if minutes % 60 == 0:
        return f"en {_n(minutes // 60)} heures"
    return f"en {_n(minutes)} minutes"


def _threshold(evidence: Evidence) -> str:
    return f"seuil : {_n(evidence['threshold'])}"


def _quota(e: Evidence) -> str:
    return QUOTA_SENTENCES[e["quota"]]


def _burst(e: Evidence) -> str:
    return f"{_n(e['count'])} vérifications {_within(e['window_minutes'])} ({_threshold(e)})."


def _volume(e: Evidence) -> str:
    return (
        f"{_n(e['count'])} vérifications {_within(e['window_minutes'])}, "
        f"au-delà de ce qui est habituel pour ce compte ({_threshold(e)})."
    )


def _no_match_ratio(e: Evidence) -> str:
    return (
        f"{_n(e['count'])} réponses sans correspondance sur {_n(e['lookups'])} vérifications "
        f"{_within(e['window_minutes'])}, soit {round(float(e['ratio']) * 100)} % "
        f"({_threshold(e)} réponses sans correspondance)."
    )


def _nir_pattern(e: Evidence) -> str:
    return (
        f"{_n(e['count'])} NIR différents et voisins (même sexe, année et mois de naissance, "
        f"même commune) vérifiés {_within(e['window_minutes'])} ({_threshold(e)})."
    )


def _unusual_hour(e: Evidence) -> str:
    # usual_to is the last usual clock hour, inclusive: 7..19 means from 7 h to 20 h.
    return (
        f"Vérifications à {int(e['hour'])} h, alors que ce compte travaille habituellement "
        f"de {int(e['usual_from'])} h à {int(e['usual_to']) + 1} h."
    )


def _new_network(e: Evidence) -> str:
    return "Première vérification depuis une adresse IP jamais vue pour ce compte."


def _new_device(e: Evidence) -> str:
    return "Première vérification depuis un navigateur ou un logiciel jamais vu pour ce compte."


def _many_networks(e: Evidence) -> str:
    return (
        f"{_n(e['networks'])} adresses IP différentes {_within(e['window_minutes'])} "
        f"({_threshold(e)})."
    )


def _concurrent_networks(e: Evidence) -> str:
    return (
        f"{_n(e['networks'])} réseaux éloignés utilisés en même temps "
        f"{_within(e['window_minutes'])} ({_threshold(e)})."
    )


def _shared_network(e: Evidence) -> str:
    return (
        f"La même adresse IP a servi à {_n(e['practices'])} cabinets différents "
        f"{_within(e['window_minutes'])} ({_threshold(e)})."
    )


def _canary(e: Evidence) -> str:
    return "Consultation d'un bénéficiaire leurre : un dossier qu'aucune carte réelle ne porte."


def _campaign(e: Evidence) -> str:
    return (
        f"{_n(e['accounts'])} comptes en alerte de gravité moyenne ou plus "
        f"{_within(e['window_minutes'])} ({_threshold(e)} comptes)."
    )


def _low_follow_up(e: Evidence) -> str:
    return (
        f"{_n(e['followed'])} vérifications sur {_n(e['lookups'])} (soit "
        f"{round(float(e['share']) * 100)} %) suivies d'un accord préalable, d'une facture ou "
        f"d'une facture de lot pour le même bénéficiaire dans les "
        f"{_n(int(e['window_minutes']) // 60)} heures (seuil : "
        f"{round(float(e['threshold']) * 100)} % à partir de {_n(e['min_lookups'])} "
        "vérifications)."
    )


def _token_networks(e: Evidence) -> str:
    return (
        f"Un même jeton d'API utilisé depuis {_n(e['networks'])} réseaux différents "
        f"{_within(e['window_minutes'])} ({_threshold(e)}) : jetons révoqués."
    )


def _token_foreign_network(e: Evidence) -> str:
    return (
        "Un jeton d'API utilisé depuis un autre réseau que celui de la session ouverte sur le "
        f"portail par son titulaire (dans les {_n(e['window_minutes'])} minutes) : jeton révoqué."
    )


def _escalation(e: Evidence) -> str:
    return (
        f"{_n(e['count'])} alertes différentes de gravité moyenne dans la journée "
        f"({_threshold(e)}) : compte suspendu."
    )


#: The sentence of each quota refusal (``guard.quotas`` reasons).
QUOTA_SENTENCES: dict[str, str] = {
    "quota_professional_hour": "Quota horaire de vérifications du compte atteint : "
    "vérification refusée.",
    "daily_quota": "Quota quotidien de vérifications du compte atteint : vérification refusée.",
    "quota_practice_hour": "Quota horaire de vérifications du cabinet ou de l'établissement "
    "atteint : vérification refusée.",
    "quota_practice_day": "Quota quotidien de vérifications du cabinet ou de l'établissement "
    "atteint : vérification refusée.",
    "slowed_down": "Compte ralenti : sa limite réduite est atteinte, vérification refusée.",
    "invoice_quota_day": "Quota quotidien de factures en lot du compte atteint : facture refusée.",
    "invoice_quota_practice_day": "Quota quotidien de factures en lot du cabinet ou de "
    "l'établissement atteint : facture refusée.",
}

#: One sentence per alert kind (a new kind without one fails tests/guard/test_evidence.py).
SENTENCES: dict[AlertKind, Callable[[Evidence], str]] = {
    AlertKind.QUOTA: _quota,
    AlertKind.BURST: _burst,
    AlertKind.VOLUME_HOUR: _volume,
    AlertKind.VOLUME_DAY: _volume,
    AlertKind.NO_MATCH_RATIO: _no_match_ratio,
    AlertKind.NIR_PATTERN: _nir_pattern,
    AlertKind.UNUSUAL_HOUR: _unusual_hour,
    AlertKind.NEW_NETWORK: _new_network,
    AlertKind.NEW_DEVICE: _new_device,
    AlertKind.MANY_NETWORKS: _many_networks,
    AlertKind.CONCURRENT_NETWORKS: _concurrent_networks,
    AlertKind.SHARED_NETWORK: _shared_network,
    AlertKind.CANARY: _canary,
    AlertKind.CAMPAIGN: _campaign,
    AlertKind.LOW_FOLLOW_UP: _low_follow_up,
    AlertKind.TOKEN_NETWORKS: _token_networks,
    AlertKind.TOKEN_FOREIGN_NETWORK: _token_foreign_network,
    AlertKind.ESCALATION: _escalation,
}

#: French names of evidence keys, for evidence a sentence cannot read (older shapes).
KEY_LABELS: dict[str, str] = {
    "count": "nombre",
    "threshold": "seuil",
    "window_minutes": "fenêtre (minutes)",
    "lookups": "vérifications",
    "ratio": "proportion",
    "hour": "heure",
    "usual_from": "début habituel",
    "usual_to": "fin habituelle",
    "networks": "adresses IP",
    "practices": "cabinets",
    "accounts": "comptes",
    "quota": "quota",
    "followed": "vérifications suivies",
    "share": "part suivie",
    "min_lookups": "vérifications minimum",
    "token": "jeton",
}


def _figures(evidence: Evidence) -> str:
    parts = [f"{KEY_LABELS.get(str(k), str(k))} : {v}" for k, v in evidence.items()]
    return ("Éléments relevés : " + ", ".join(parts) + ".") if parts else "Aucun élément relevé."


def describe_evidence(kind: str, evidence: Any) -> str:
    """The French sentence for an alert of ``kind`` (an :class:`AlertKind` value) with
    ``evidence`` (its dict). Unknown kind or unreadable evidence: the figures one by one,
    with French names. Never raises."""
    if not isinstance(evidence, Mapping):
        return "Aucun élément relevé."
    sentence = SENTENCES.get(AlertKind(kind)) if kind in AlertKind.values else None
    if sentence is not None:
        try:
            return sentence(evidence)
        except (KeyError, TypeError, ValueError):
            pass
    return _figures(evidence)
