"""A software WebAuthn authenticator for view-level tests: it creates an ES256 (P-256) key,
answers the server's options with a ``none`` attestation or a signed assertion, and lets a
test choose the origin and RP id it claims, to prove the server refuses foreign ones.

Formats: W3C WebAuthn Level 3 §6.1 (authenticator data), §6.5.4 (``none`` attestation),
COSE EC2 key (RFC 9053); JSON shapes as py_webauthn parses them. Synthetic keys only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


@dataclass
class SoftAuthenticator:
    """One credential on one authenticator; ``sign_count`` grows with each assertion."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def register(self, options: dict, *, origin: str, rp_id: str | None = None) -> dict:
        """The ``navigator.credentials.create`` answer to ``options`` (server JSON)."""
        rp = rp_id or options["rp"]["id"]
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([UP | UV | AT])
            + struct.pack(">I", self.sign_count)
            + bytes(16)  # AAGUID: none
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(
                    _client_data("webauthn.create", options["challenge"], origin)
                ),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
            "authenticatorAttachment": "platform",
        }

    def get_assertion(
        self,
        options: dict,
        *,
        origin: str,
        rp_id: str | None = None,
        kind: str = "webauthn.get",
        signer: ec.EllipticCurvePrivateKey | None = None,
    ) -> dict:
        """The ``navigator.credentials.get`` answer to ``options`` (server JSON)."""
        self.sign_count += 1
        rp = rp_id or options["rpId"]
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([UP | UV])
            + struct.pack(">I", self.sign_count)
        )
        client_data = _client_data(kind, options["challenge"], origin)
        signature = (signer or self.key).sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": None,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
