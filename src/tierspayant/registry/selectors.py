"""Read queries on the register. None of these is a disclosure by itself: callers that answer
anyone outside the platform go through ``eligibility`` (the disclosure gate)."""

from __future__ import annotations

import datetime

from tierspayant import hot_sql
from tierspayant.crypto.blind_index import blind_index_candidates
from tierspayant.crypto.keys import Keyring
from tierspayant.registry.models import Beneficiary
from tierspayant.registry.services import IDENTITY_PURPOSE, identity_parts


def beneficiaries_by_identity(
    keyring: Keyring, *, nir: str, birth_date: datetime.date
) -> list[Beneficiary]:
    """Beneficiaries whose (normalised NIR, birth date) match, under any known index key,
    ordered by rang then id.

    One indexed query, contracts and insurers joined in; every rights check runs it, so its
    SQL is built once per process (:mod:`tierspayant.hot_sql`). ``nir`` must already be
    normalised.
    """
    candidates = blind_index_candidates(
        keyring.index, *identity_parts(nir, birth_date), purpose=IDENTITY_PURPOSE
    )
    return hot_sql.select_related(
        Beneficiary,
        ("contract", "insurer"),
        where="identity_index",
        values=candidates,
        order_by=("rang", "pk"),
    )
