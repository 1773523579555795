"""Pro Santé Connect callback cost against the local OpenID provider (tests/oidc_provider).

Usage, from the project root (Node.js and ``npm ci`` in tests/oidc_provider, as ``make test``):

    .venv/bin/python bench/psc_sign_in.py [--rounds 30]

Each round: :func:`prosanteconnect.services.begin` (discovery, PKCE, state, nonce), the
professional's sign-in at the provider over HTTP (not timed), then
:func:`prosanteconnect.services.complete` — what the callback does before the account lookup:
discovery, code exchange, JWKS, ID token checks, userinfo. Prints one JSON object: median and
95th percentile of ``begin`` and ``complete`` in milliseconds, and machine facts. The provider
runs on this machine, so the figures are the platform's own cost plus loopback HTTP; against
the real PSC, add its network latency (4 requests at the callback, 1 at the start).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from bench._machine import machine_facts
    from tests.psc_provider import running_provider

    from tierspayant.prosanteconnect import services
    from tierspayant.prosanteconnect.choices import Purpose

    callback = "http://127.0.0.1:9/connexion/psc/retour/"
    begin_ms: list[float] = []
    complete_ms: list[float] = []
    with running_provider([callback]) as provider:
        config = services.PscConfig(
            issuer=provider.issuer,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
        )
        for _ in range(args.rounds):
            started = time.perf_counter()
            url, pending = services.begin(config, redirect_uri=callback, purpose=Purpose.SIGN_IN)
            begin_ms.append((time.perf_counter() - started) * 1000)
            answer = provider.sign_in(url, "810000000001")
            params = dict(parse_qsl(urlsplit(answer).query))
            started = time.perf_counter()
            identity = services.complete(config, pending=pending, params=params)
            complete_ms.append((time.perf_counter() - started) * 1000)
            assert identity.national_id == "810000000001"

    def figures(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {
            "median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        }

    print(
        json.dumps(
            {
                "bench": "psc_sign_in",
                "rounds": args.rounds,
                "begin": figures(begin_ms),
                "complete": figures(complete_ms),
                "machine": machine_facts(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
