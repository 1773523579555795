"""FHIR identifier and code systems used by the platform (documented in docs/fhir.md).

The NIR system is the French national one (HL7 France FR Core: ``urn:oid:1.2.250.1.213.1.4.8``,
used for both the INS-NIR and the card's NSS; the card's number is accepted with or without
``identifier.type`` NH and never treated as a qualified identity). FR Core defines no system
for AMC numbers or our domains, so those live under the platform's own base URL.
"""

NIR = "urn:oid:1.2.250.1.213.1.4.8"
NIR_TEST_SYSTEMS = ("urn:oid:1.2.250.1.213.1.4.10", "urn:oid:1.2.250.1.213.1.4.11")
IDNATPS = "urn:oid:1.2.250.1.71.4.2.1"
RPPS = "https://rpps.esante.gouv.fr"
ADJUDICATION_ERROR = "http://terminology.hl7.org/CodeSystem/adjudication-error"


def amc_number_system(base: str) -> str:
    """Identifier system of AMC numbers (Organization.identifier of an insurer)."""
    return f"{base}/NamingSystem/amc-number"


def rang_extension_url(base: str) -> str:
    """Extension on the contained Patient carrying the rang de naissance (valueInteger 1-9)."""
    return f"{base}/StructureDefinition/rang-naissance"


def domain_system(base: str) -> str:
    """Code system of the kinds of care open to tiers payant (pharmacy, optical...)."""
    return f"{base}/CodeSystem/tiers-payant-domain"


def eligibility_error_system(base: str) -> str:
    """Code system of our rights-check error codes (no-match, rang-required)."""
    return f"{base}/CodeSystem/eligibility-error"


def request_id_system(base: str) -> str:
    """Identifier system of the platform's request ids (tie an answer to its log row)."""
    return f"{base}/NamingSystem/request-id"


def attestation_key_system(base: str) -> str:
    """Code system of the attestation keys carried as ``Coverage.class`` in a rights check
    v2: ``convention-type``, ``routing-criterion``."""
    return f"{base}/CodeSystem/attestation-key"


def engagement_expiry_extension_url(base: str) -> str:
    """Extension on a CoverageEligibilityResponse: when its engagement (``preAuthRef``)
    expires (valueDateTime, UTC)."""
    return f"{base}/StructureDefinition/engagement-expires"
