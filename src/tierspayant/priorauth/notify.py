"""Telling the professional that the insurer decided a pending approval (issue 15 part 5).

The message names the approval number, the decision, the AMC amount and where to read the
letter; never the patient, a NIR or anything the professional typed. The portal shows the
same decision on the approval's page. A mail outage is logged and swallowed: the decision
stands and the portal shows it.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail

from tierspayant.priorauth.models import PriorApproval

logger = logging.getLogger(__name__)


def tell_professional_decided(approval: PriorApproval) -> None:
    """Email the approval's professional (if an address is known) the staff decision."""
    address = approval.professional.user.email
    if not address:
        return
    subject = f"Accord {approval.number} : {approval.get_decision_display().lower()}"
    body = "\n".join(
        [
            f"L'organisme complémentaire a examiné la demande {approval.number}.",
            f"Décision : {approval.get_decision_display()}.",
            f"Part complémentaire : {approval.total_amc} €.",
            f"Motif : {approval.decision_note}",
            "La lettre d'accord ou de refus, avec le calcul ligne par ligne, est disponible "
            "sur la page de l'accord dans le portail (Accords de prise en charge).",
        ]
    )
    try:
        send_mail(subject, body, None, [address], fail_silently=False)
    except Exception:
        logger.exception("priorauth: could not tell the professional of %s", approval.pk)
