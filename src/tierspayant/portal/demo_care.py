"""Demo seeding for the optician's day: bank accounts for every demo professional (valid
synthetic French IBANs), and a few weeks of approvals and accepted claims for the demo
optician, so that ``tierspayant payment-run`` on a fresh demo has something to pay.

Everything goes through the services (rights check, coverage engine, commitments), dated in
the past with explicit instants; the patients are new synthetic beneficiaries of the demo's
« Équilibre » contract.
"""

from __future__ import annotations

import datetime
import random
import uuid
from typing import Any

from faker import Faker
from schwifty import IBAN

from tierspayant.audit.choices import Channel
from tierspayant.audit.services import RequestContext
from tierspayant.claims.services import submit_claim
from tierspayant.portal.demo import DEMO_USERNAME
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.gate import Identity
from tierspayant.priorauth.lpp import LineInput
from tierspayant.priorauth.models import ReviewRule
from tierspayant.priorauth.services import request_prior_approval
from tierspayant.priorauth.synthetic import synthetic_prescription
from tierspayant.providers.banking import register_first_bank_account
from tierspayant.providers.models import BankAccount, Professional
from tierspayant.providers.synthetic import synthetic_rpps
from tierspayant.registry.choices import Quality
from tierspayant.registry.models import Contract
from tierspayant.registry.services import register_beneficiary
from tierspayant.registry.synthetic import synthetic_nir

_BANKS = [
    ("30004", "BNPAFRPP"),
    ("30003", "SOGEFRPP"),
    ("20041", "PSSTFRPP"),
    ("30002", "CRLYFRPP"),
]
_FRAMES = ["120.00", "150.00", "189.00", "95.00"]
_LENSES = ["2208756", "2225329", "2209460", "2200335"]


#: The prescribing doctor of the demo's glasses (synthetic RPPS, its own generator so the
#: demo's other draws stay as they were).
_PRESCRIBER = synthetic_rpps(random.Random(1515))  # noqa: S311 (synthetic demo data)


def synthetic_iban(rng: random.Random) -> tuple[str, str]:
    """A valid French IBAN (RIB key and check digits computed by schwifty) and its BIC."""
    bank, bic = rng.choice(_BANKS)
    iban = IBAN.generate(
        "FR",
        bank_code=bank,
        branch_code=f"{rng.randint(0, 99999):05d}",
        account_code=f"{rng.randint(0, 10**11 - 1):011d}",
    )
    return str(iban), bic


def seed_care_demo(
    settings: Any, *, today: datetime.date, now: datetime.datetime, weeks: int = 4
) -> int:
    """Seed bank accounts and ``weeks`` weeks of approved and invoiced glasses; returns the
    number of accepted claims. Meant for a freshly seeded demo (``make demo``)."""
    rng = random.Random(20240212)  # noqa: S311 - synthetic data, reproducible on purpose
    faker = Faker("fr_FR")
    faker.seed_instance(20240212)
    keys = settings.TIERSPAYANT_KEYRING
    for professional in Professional.objects.select_related("user"):
        if not professional.user.email:
            professional.user.email = f"{professional.user.username}@demo.tierspayant.example"
            professional.user.save(update_fields=["email"])
        if not BankAccount.objects.filter(professional=professional).exists():
            iban, bic = synthetic_iban(rng)
            register_first_bank_account(
                keys.encryption,
                professional=professional,
                iban=iban,
                bic=bic,
                holder_name=professional.display_name[:70],
                now=now - datetime.timedelta(days=7 * weeks + 30),
            )
    optician = Professional.objects.get(user__username=DEMO_USERNAME)
    contract = Contract.objects.filter(guarantee_table="equilibre").order_by("pk").first()
    if contract is None:
        return 0
    # The insurer reviews quotes above 1,500 EUR on this contract (back-office review queue).
    ReviewRule.objects.get_or_create(
        insurer=contract.insurer, contract=contract, defaults={"amount_above": "1500.00"}
    )
    config = CareConfig.from_settings(settings)
    accepted = 0
    for index in range(weeks * 3):
        day = today - datetime.timedelta(days=7 * weeks - 2 * index)
        instant = now - datetime.timedelta(days=(today - day).days)
        born = faker.date_of_birth(minimum_age=20, maximum_age=80)
        nir = synthetic_nir(rng, sex=rng.choice([1, 2]), birth_date=born)
        register_beneficiary(
            keys,
            contract=contract,
            nir=nir,
            rang=1,
            birth_date=born,
            last_name=faker.last_name(),
            first_name=faker.first_name(),
            quality=Quality.INSURED,
            rights_start=contract.valid_from,
            rights_end=None,
        )
        lens = rng.choice(_LENSES)
        lines = [
            LineInput(code="2264861", billed=rng.choice(_FRAMES)),
            LineInput(code=lens, billed="110.00", side="right"),
            LineInput(code=lens, billed="110.00", side="left"),
        ]
        identity = Identity(nir=nir, birth_date=born)
        context = RequestContext(
            channel=Channel.COMMAND,
            request_id=uuid.uuid4(),
            ip=None,
            user_agent="demo",
            actor_id=None,
        )
        approval = request_prior_approval(
            config,
            professional=optician,
            identity=identity,
            planned_date=day,
            lines=lines,
            quote_reference=f"DEVIS-{index + 1:03d}",
            context=context,
            now=instant,
            today=day,
            prescription=synthetic_prescription(lines, care_date=day, prescriber_rpps=_PRESCRIBER),
        )
        submitted = submit_claim(
            config,
            professional=optician,
            identity=identity,
            invoice_number=f"DEMO-{day:%Y%m%d}-{index + 1:03d}",
            care_date=day,
            lines=lines,
            approval_number=approval.number,
            context=RequestContext(
                channel=Channel.COMMAND,
                request_id=uuid.uuid4(),
                ip=None,
                user_agent="demo",
                actor_id=None,
            ),
            now=instant + datetime.timedelta(hours=2),
            today=day,
        )
        accepted += submitted.claim.status == "accepted"
    return accepted
