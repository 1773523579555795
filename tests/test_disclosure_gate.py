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
    "decrypt_field": {"crypto/fields.py", "registry/models.py", "providers/models.py"},
    "check_rights": {
        "eligibility/services.py",
        "portal/views.py",
        "api/json_api.py",
        "api/fhir/views.py",
        "priorauth/gate.py",  # approvals and claims identify the patient through the gate
        "calculations/services.py",  # CLC identifies the patient through the gate (17.4)
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
