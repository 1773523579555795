"""``tierspayant demo``: seed the synthetic demo platform once and write its credentials."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from tierspayant.invoices.models import ReferenceTable
from tierspayant.invoices.services import load_nomenclatures
from tierspayant.portal.demo import (
    fhir_example,
    fund_demo_insurers,
    seed_demo,
    write_demo_attestation,
)
from tierspayant.portal.demo_care import seed_care_demo
from tierspayant.portal.demo_lots import write_demo_lots
from tierspayant.registry.models import Insurer


class Command(BaseCommand):
    help = "Seed synthetic demo data (first run only) and write var/demo-credentials.json."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--beneficiaries", type=int, default=5000)
        parser.add_argument(
            "--credentials", default=str(settings.VAR_DIR / "demo-credentials.json")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError(
                "demo seeds synthetic data only with TIERSPAYANT_DEMO=1 (make demo)."
            )
        path = Path(options["credentials"])
        if Insurer.objects.exists():
            if not path.exists():
                raise CommandError(
                    f"The database is seeded but {path} is missing: remove var/tierspayant.sqlite3 "
                    "and run make demo again."
                )
            self.stdout.write(f"Demo data already present; credentials in {path}")
        else:
            with tqdm(
                total=options["beneficiaries"], unit=" bénéficiaires", desc="Registre"
            ) as bar:
                credentials = seed_demo(
                    settings.TIERSPAYANT_KEYRING,
                    today=timezone.localdate(),
                    now=timezone.now(),
                    beneficiaries=options["beneficiaries"],
                    progress=lambda n: bar.update(n - bar.n),
                )
            seed_care_demo(settings, today=timezone.localdate(), now=timezone.now())  # care
            fund_demo_insurers(settings.TIERSPAYANT_KEYRING.encryption, now=timezone.now())
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(json.dumps(credentials.as_dict(), indent=2, ensure_ascii=False))
            self.stdout.write(f"Demo data seeded; credentials written to {path}")
        data = json.loads(path.read_text())
        example = path.parent / "demo-coverageeligibilityrequest.json"
        example.write_text(json.dumps(fhir_example(data["patients"][0]), indent=2))
        attestation = write_demo_attestation(
            settings.TIERSPAYANT_KEYRING.encryption, path.parent, year=timezone.localdate().year
        )
        if not ReferenceTable.objects.exists() and settings.TIERSPAYANT_NOMENCLATURES_DIR.is_dir():
            load_nomenclatures(settings.TIERSPAYANT_NOMENCLATURES_DIR, now=timezone.now())
        covered = [p for p in data["patients"] if p["expected"] == "covered"]
        lots = write_demo_lots(
            path.parent, covered, timezone.localdate() - datetime.timedelta(days=2)
        )
        pro = data["professional"]
        self.stdout.write(
            "\nPortail : http://127.0.0.1:8000/  (identifiant "
            f"{pro['username']}, mot de passe et secret TOTP dans {path})\n"
            "Code TOTP du moment : make totp\n"
            f"Back-office : identifiant {data['staff']['username']} (make totp-staff) ; sa "
            "première clé d'accès n'est pas ouverte : demandez-la sur Sécurité, puis make "
            "approve-staff-passkey\n"
            "API FHIR : curl -H 'Authorization: Bearer <api_token>' -H 'Content-Type: "
            "application/fhir+json' --data @var/demo-coverageeligibilityrequest.json "
            "http://127.0.0.1:8000/fhir/r4/CoverageEligibilityRequest\n"
            f"Lots de factures prêts ({len(lots)}) : {', '.join(p.name for p in lots)} dans "
            f"{path.parent} (pharmacien.demo, laboratoire.demo, infirmier.demo, kine.demo, "
            "generaliste.demo ; portail, menu Lots)\n"
            + (f"Attestation de tiers payant (exemple) : {attestation}\n" if attestation else "")
        )
