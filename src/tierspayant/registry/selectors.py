"""Read queries on the register. None of these is a disclosure by itself: callers that answer
anyone outside the platform go through ``eligibility`` (the disclosure gate)."""

from __future__ import annotations

import datetime

from tierspayant.crypto.blind_index import blind_index_candidates
from tierspayant.crypto.keys import Keyring
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.services import IDENTITY_PURPOSE, identity_parts


def beneficiaries_by_identity(
    keyring: Keyring, *, nir: str, birth_date: datetime.date
) -> list[Beneficiary]:
    """Beneficiaries whose (normalised NIR, birth date) match, under any known index key.

    One indexed query; contracts and insurers are joined in. ``nir`` must already be normalised.
    """
    candidates = blind_index_candidates(
        keyring.index, *identity_parts(nir, birth_date), purpose=IDENTITY_PURPOSE
    )
    return list(
        Beneficiary.objects.select_related("contract__insurer")
        .filter(identity_index__in=candidates)
        .order_by("rang", "id")
    )
