"""A real OpenID provider for the Pro Santé Connect tests: panva's ``oidc-provider`` (OpenID
Certified), configured like PSC (tests/oidc_provider/provider.mjs), run by Node.js on a free
port. ``npm ci`` installs it (``make test`` and ``.ci/run`` do; :func:`ensure_installed` too).

:class:`LocalProvider` also plays the professional's side of the provider's pages over HTTP
(:meth:`sign_in`), for tests that drive the flow through the Django test client.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID = "tierspayant-test"
CLIENT_SECRET = "test-only-psc-client-secret-0f6c2a"


def ensure_installed() -> str:
    """The ``node`` executable, after ``npm ci`` when node_modules is absent; skips (or fails
    under ``TIERSPAYANT_REQUIRE_SERVICES``) when Node.js is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("TIERSPAYANT_REQUIRE_SERVICES"):
            pytest.fail("Node.js and npm are required (TIERSPAYANT_REQUIRE_SERVICES)")
        pytest.skip("Node.js/npm not installed: the local OpenID provider cannot run")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(  # noqa: S603
            [npm, "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, check=True, timeout=600
        )
    return node


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalProvider:
    """A running provider: ``issuer`` URL, the test client's credentials, the mode switch."""

    def __init__(self, issuer: str, redirect_uris: list[str]) -> None:
        self.issuer = issuer
        self.redirect_uris = redirect_uris
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET

    def set_mode(self, mode: str | None) -> None:
        """``bad_signature``, ``wrong_audience``, ``expired`` or None (honest tokens)."""
        answer = requests.post(f"{self.issuer}/__test/mode", json={"mode": mode}, timeout=5)
        answer.raise_for_status()

    def sign_in(self, authorization_url: str, national_id: str, acr: str = "eidas1") -> str:
        """Play the professional at the provider (card or e-CPS app): open the authorization
        URL, submit the sign-in form as ``national_id`` at level ``acr``, and return the
        callback URL the provider redirects to (not followed)."""
        browser = requests.Session()
        url = authorization_url
        for _ in range(10):
            answer = browser.get(url, allow_redirects=False, timeout=10)
            if answer.status_code in (302, 303):
                url = urljoin(url, answer.headers["Location"])
                if any(url.startswith(uri) for uri in self.redirect_uris):
                    return url
                continue
            assert answer.status_code == 200, answer.text[:500]
            action = re.search(r'action="([^"]+)"', answer.text)
            assert action is not None, answer.text[:500]
            answer = browser.post(
                urljoin(url, action.group(1)),
                data={"login": national_id, "acr": acr},
                allow_redirects=False,
                timeout=10,
            )
            assert answer.status_code in (302, 303), answer.text[:500]
            url = urljoin(url, answer.headers["Location"])
            if any(url.startswith(uri) for uri in self.redirect_uris):
                return url
        raise AssertionError("the provider never redirected back")


@contextlib.contextmanager
def running_provider(redirect_uris: list[str]) -> Iterator[LocalProvider]:
    """Start the provider on a free port for ``redirect_uris``; stopped on exit."""
    node = ensure_installed()
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORT": str(port),
        "ISSUER": issuer,
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URIS": ",".join(redirect_uris),
    }
    process = subprocess.Popen(  # noqa: S603
        [node, "provider.mjs"],
        cwd=PROVIDER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if line.strip() != "ready":
            process.kill()
            _out, err = process.communicate(timeout=10)
            raise RuntimeError(f"the local OpenID provider did not start: {err[-2000:]}")
        yield LocalProvider(issuer, redirect_uris)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def configure(settings: object, provider: LocalProvider) -> None:
    """Point the platform's Pro Santé Connect client at ``provider`` (pytest-django settings)."""
    settings.TIERSPAYANT_PSC_ISSUER = provider.issuer  # type: ignore[attr-defined]
    settings.TIERSPAYANT_PSC_CLIENT_ID = provider.client_id  # type: ignore[attr-defined]
    settings.TIERSPAYANT_PSC_CLIENT_SECRET = provider.client_secret  # type: ignore[attr-defined]
    settings.TIERSPAYANT_PSC_ACR_VALUES = ("eidas1",)  # type: ignore[attr-defined]
