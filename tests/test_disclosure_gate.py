"""Personal data leaves through one gate: only the eligibility service looks beneficiaries up
by identity, and only the register's own code decrypts (DESIGN.md, section 3)."""

from __future__ import annotations

import ast
from pathlib import Path

import tierspayant

SRC = Path(tierspayant.__file__).resolve().parent

# Who may call what. A new caller must be added here, with a reason, in review.
ALLOWED = {
    # audit/selectors.py: an insurer (staff, member apps) finds *its own* members to show
    # their access history; never a professional, never another insurer's beneficiaries.
    "beneficiaries_by_identity": {
        "registry/selectors.py",
        "eligibility/services.py",
        "audit/selectors.py",
    },
    # providers/models.py: BankAccount.iban(), read by payment runs to write SEPA files.
    # registry/member_file/staging.py: the member-file import re-binds a staged member number's
    # ciphertext to the register row it merges into (AES-GCM bound to the row id), in memory.
    # invoices/lots.py: a lot's waiting invoice reads back the card identity its sender gave,
    # only to identify the patient through check_rights (then the identity is erased).
    # settlement/models.py: InsurerFunding.iban(), an insurer's (company) account, read by
    # payment runs to write the pain.001 debtor and the pain.008 direct debit.
    "decrypt_field": {
        "crypto/fields.py",
        "registry/models.py",
        "providers/models.py",
        "registry/member_file/staging.py",
        "invoices/lots.py",
        "settlement/models.py",
    },
    "check_rights": {
        "eligibility/services.py",
        "portal/views.py",
        "api/json_api.py",
        "api/fhir/views.py",
        "priorauth/gate.py",  # approvals and claims identify the patient through the gate
        "calculations/services.py",  # CLC identifies the patient through the gate (17.4)
        "invoices/lots.py",  # each invoice of a lot identifies its patient (issue 14 part 5)
    },
}


def calls_by_module() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute):
                names.add(node.id if isinstance(node, ast.Name) else node.attr)
            elif isinstance(node, ast.FunctionDef):
                names.add(node.name)
        found[path.relative_to(SRC).as_posix()] = names
    return found


def test_only_the_gate_reaches_personal_data() -> None:
    modules = calls_by_module()
    assert "eligibility/services.py" in modules
    for function, allowed in ALLOWED.items():
        users = {module for module, names in modules.items() if function in names}
        assert users <= allowed, f"{function} used outside the gate by {sorted(users - allowed)}"
        assert users, f"{function} no longer exists: update this test"


def test_gate_writes_the_log_and_consumes_the_quota() -> None:
    names = calls_by_module()["eligibility/services.py"]
    assert {"record_disclosure", "consume_rights_check_quota", "atomic"} <= names
