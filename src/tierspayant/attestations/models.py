"""No table of its own: an attestation is made from the register when asked for
(``services.build_attestation``), never stored."""
