"""Properties (hypothesis) of security controls: concurrent calls never exceed a quota, and
a masked NIR never shows the number. (Tampered ciphertext never decrypting is proved in
``tests/test_crypto.py::test_tampered_ciphertext_never_decrypts``.)"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given, settings
from hypothesis import strategies as st

from tierspayant.guard.services import QuotaExceeded, consume_rights_check_quota
from tierspayant.registry.nir import mask_nir


@settings(max_examples=25, deadline=None)
@given(
    per_day=st.integers(min_value=1, max_value=30),
    attempts=st.integers(min_value=1, max_value=60),
    workers=st.integers(min_value=2, max_value=12),
)
def test_concurrent_calls_never_exceed_a_quota(per_day: int, attempts: int, workers: int) -> None:
    professional_id = uuid.uuid4().int % 10**9

    def one(_: int) -> bool:
        try:
            consume_rights_check_quota(
                storage_uri="memory://", professional_id=professional_id, per_day=per_day
            )
        except QuotaExceeded:
            return False
        return True

    with ThreadPoolExecutor(max_workers=workers) as pool:
        allowed = sum(pool.map(one, range(attempts)))
    assert allowed == min(attempts, per_day)


@st.composite
def nirs(draw) -> str:
    body = draw(st.sampled_from("12")) + draw(st.text("0123456789", min_size=12, max_size=12))
    return body + f"{97 - int(body) % 97:02d}"


@settings(max_examples=200)
@given(nirs())
def test_masking_never_outputs_a_full_nir(nir: str) -> None:
    masked = mask_nir(nir)
    digits = "".join(ch for ch in masked if ch.isdigit())
    assert len(digits) <= 3  # sex digit and key only
    assert nir[1:13] not in masked.replace(" ", "")


@given(st.text(max_size=40))
def test_masking_anything_else_shows_nothing(raw: str) -> None:
    masked = mask_nir(raw)
    if len(raw) != 15:
        assert masked == "***"
    else:
        assert sum(ch == "*" for ch in masked) == 12  # 12 of 15 characters hidden


@st.composite
def french_ibans(draw: st.DrawFn) -> str:
    """Valid French IBANs (check digits and RIB key computed by schwifty)."""
    from schwifty import IBAN

    bank = draw(st.text(alphabet="0123456789", min_size=5, max_size=5))
    branch = draw(st.text(alphabet="0123456789", min_size=5, max_size=5))
    account = draw(st.text(alphabet="0123456789", min_size=11, max_size=11))
    return str(IBAN.generate("FR", bank_code=bank + branch, account_code=account).compact)


@settings(max_examples=200, deadline=None)
@given(iban=french_ibans())
def test_masked_iban_never_shows_the_account(iban: str) -> None:
    from tierspayant.providers.banking import mask_iban

    masked = mask_iban(iban)
    assert len(iban) == 27
    assert masked == f"{iban[:4]} … {iban[-4:]}"
    hidden = iban[4:-4]  # bank, branch, account number and RIB key, less the last 4
    digits_shown = "".join(ch for ch in masked if ch.isalnum())
    assert hidden not in digits_shown
    assert len(digits_shown) == 8  # 8 of 27 characters: country, check digits, last four
