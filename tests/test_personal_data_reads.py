"""Every read that returns personal data is counted against a quota and logged (issue 13).

Each route of the URL configuration outside the back-office is listed once here: either it
returns personal data about a person, and then its view reaches a gate function that counts
(guard) and logs (audit) — checked by reading the source, and by a named behaviour test — or
it is listed with the reason it returns none. A new route fails until it is listed.

In the back-office, every page with a view of its own (not one of the pages Django's admin
generates per model: list, add, change, delete, history) is listed the same way; a new one
fails until it is listed.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

import tierspayant
from tests.test_access_walk import all_routes

SRC = Path(tierspayant.__file__).resolve().parent

#: route -> (module holding the view, gate function it calls, behaviour test proving quota
#: and log). The gate functions are checked below to count and log.
PERSONAL_DATA_READS: dict[str, tuple[str, str, str]] = {
    "droits/": (
        "portal/views.py",
        "check_rights",
        "tests/test_portal.py::test_quota_page",
    ),
    "api/v1/eligibility": (
        "api/json_api.py",
        "check_rights",
        "tests/test_api_json.py::test_quota_answers_429",
    ),
    "fhir/r4/CoverageEligibilityRequest": (
        "api/fhir/views.py",
        "check_rights",
        "tests/test_fhir.py::test_covered_patient_gets_a_valid_response",
    ),
    # Approvals and invoices identify their patient through the rights check.
    "pec/nouvelle/": (
        "portal/views_care.py",
        "request_prior_approval",
        "tests/care/test_priorauth.py::test_class_b_glasses_are_decided_at_once_with_the_engine_amounts",
    ),
    "factures/nouvelle/": (
        "portal/views_care.py",
        "submit_claim",
        "tests/care/test_claims.py::test_invoicing_an_approval_uses_it_and_takes_over_its_commitment",
    ),
    # A lot's invoices identify their patients through the rights check, in the worker.
    "lots/": (
        "portal/views_lots.py",
        "schedule_lot",
        "tests/invoices/test_lots.py::test_each_invoice_is_identified_through_the_gate",
    ),
    "api/v1/lots": (
        "api/lots_api.py",
        "schedule_lot",
        "tests/invoices/test_lots.py::test_each_invoice_is_identified_through_the_gate",
    ),
    "fhir/r4/": (
        "api/fhir/lot_views.py",
        "schedule_lot",
        "tests/invoices/test_lots.py::test_each_invoice_is_identified_through_the_gate",
    ),
    "api/v1/prior-approvals": (
        "api/care_api.py",
        "request_prior_approval",
        "tests/care/test_priorauth.py::test_class_b_glasses_are_decided_at_once_with_the_engine_amounts",
    ),
    "api/v1/claims": (
        "api/care_api.py",
        "submit_claim",
        "tests/care/test_claims.py::test_invoicing_an_approval_uses_it_and_takes_over_its_commitment",
    ),
    "fhir/r4/Claim": (
        "api/fhir/claim_views.py",
        "request_prior_approval",
        "tests/care/test_priorauth.py::test_class_b_glasses_are_decided_at_once_with_the_engine_amounts",
    ),
    # CLC (issue 17): the AMC amount before billing, identified through the rights check.
    "api/v1/calculations": (
        "api/calculation_api.py",
        "calculate",
        "tests/engagements/test_api.py::test_calculation_counts_against_the_quota",
    ),
    # A person's access history (who saw them, when, why): the insurer's apps and the person.
    "fhir/r4/AuditEvent/_search": (
        "api/fhir/audit_event.py",
        "read_access_history",
        "tests/audit/test_access_history.py::test_fhir_search_counts_against_the_insurers_read_quota",
    ),
    "historique/<str:token>/": (
        "portal/views_history.py",
        "read_own_history",
        "tests/audit/test_access_history.py::test_the_persons_link_is_counted_and_each_view_logged",
    ),
}

#: Back-office routes whose own view returns personal data: same shape, the module holding
#: the view (it must resolve there) and the gate it calls.
BACKOFFICE_PERSONAL_DATA_READS: dict[str, tuple[str, str, str]] = {
    # A member's access history found by NIR and birth date (an identity lookup) or by id.
    "admin/audit/disclosurelog/historique/": (
        "portal/views_staff_history.py",
        "read_history_as_staff",
        "tests/audit/test_access_history.py::test_staff_history_search_and_view_are_logged_as_reads_of_their_own",
    ),
    "admin/audit/disclosurelog/historique/<uuid:beneficiary_id>/": (
        "portal/views_staff_history.py",
        "read_history_as_staff",
        "tests/audit/test_access_history.py::test_staff_history_reads_count_against_the_staff_members_quota",
    ),
    # A family's tiers payant attestation (names, birth dates, member number).
    "admin/attestations/beneficiaire/<uuid:beneficiary_id>/": (
        "attestations/admin.py",
        "read_attestation_as_staff",
        "tests/attestations/test_attestations.py::test_staff_downloads_count_against_their_read_quota",
    ),
}

#: The views Django's admin generates (per model, and the site's own frame): not listed here.
_GENERATED_ADMIN_VIEWS = {
    "changelist_view",
    "add_view",
    "change_view",
    "delete_view",
    "history_view",
    "autocomplete_view",
    "RedirectView",
    "index",
    "app_index",
    "catch_all_view",
}

_OWN_RECORDS = (
    "the professional's own approvals, invoices or payment statements: amounts, act codes and "
    "its own references, no name, NIR or birth date of anyone (the patient was identified "
    "through the gate when the record was made); owner-scoped (tests/test_access_walk.py)"
)
_OWN_ACCOUNT = "the signed-in user's own account and factors (tests/test_access_walk.py)"
_NOTHING = "no personal data"

#: route -> why it returns no personal data about anyone but the signed-in caller.
NOT_PERSONAL_DATA: dict[str, str] = {
    "": _OWN_ACCOUNT,
    "connexion/": _OWN_ACCOUNT,
    "deconnexion/": _NOTHING,
    "connexion/code/": _OWN_ACCOUNT,
    "connexion/activer-2fa/": _OWN_ACCOUNT,
    "connexion/confirmer/": _OWN_ACCOUNT,
    "connexion/code-de-secours/": _OWN_ACCOUNT,
    "compte/mot-de-passe/": _OWN_ACCOUNT,
    "mot-de-passe-oublie/": "one answer for every address (tests/test_password_reset.py)",
    "mot-de-passe-oublie/envoye/": _NOTHING,
    "mot-de-passe-oublie/<uidb64>/<token>/": _OWN_ACCOUNT,
    "jetons/": _OWN_ACCOUNT,
    "jetons/<int:token_id>/revoquer/": _OWN_ACCOUNT,
    "securite/": _OWN_ACCOUNT,
    "securite/cles/<int:passkey_id>/supprimer/": _OWN_ACCOUNT,
    "securite/cles/enrolement/": _OWN_ACCOUNT,
    "securite/cles/enrolement/code/": _OWN_ACCOUNT,
    "securite/cles/<int:passkey_id>/retirer/": _OWN_ACCOUNT,
    "securite/codes-de-secours/": _OWN_ACCOUNT,
    "securite/sessions/": _OWN_ACCOUNT,
    "securite/sessions/<uuid:public_id>/fermer/": _OWN_ACCOUNT,
    # Pro Santé Connect (issue 19): redirects and the caller's own link; no idNatPs shown.
    "connexion/psc/": _NOTHING,
    "connexion/psc/retour/": _OWN_ACCOUNT,
    "connexion/confirmer/psc/": _OWN_ACCOUNT,
    "securite/psc/lier/": _OWN_ACCOUNT,
    "securite/psc/delier/": _OWN_ACCOUNT,
    "banque/": _OWN_ACCOUNT + "; the IBAN masked",
    "banque/changement/<int:change_id>/": _OWN_ACCOUNT,
    "banque/changement/<int:change_id>/annuler/": _OWN_ACCOUNT,
    "cle-acces/enregistrement/debut/": _OWN_ACCOUNT,
    "cle-acces/enregistrement/fin/": _OWN_ACCOUNT,
    "cle-acces/verification/debut/": _OWN_ACCOUNT,
    "cle-acces/verification/fin/": _OWN_ACCOUNT,
    "cle-acces/jsi18n/": _NOTHING,
    "pec/": _OWN_RECORDS,
    "pec/<int:approval_id>/": _OWN_RECORDS,
    "pec/<int:approval_id>/annuler/": _OWN_RECORDS,
    "pec/<int:approval_id>/lettre.pdf": _OWN_RECORDS,
    "pec/catalogue/": _NOTHING + ": the catalogue of LPP and CCAM codes (reference data)",
    "factures/": _OWN_RECORDS,
    "factures/<int:claim_id>/": _OWN_RECORDS,
    "paiements/": _OWN_RECORDS,
    "paiements/<int:statement_id>/": _OWN_RECORDS,
    "paiements/<int:statement_id>/releve.pdf": _OWN_RECORDS,
    "paiements/<int:statement_id>/releve.csv": _OWN_RECORDS,
    "api/v1/": _NOTHING,
    "api/v1/openapi.json": _NOTHING,
    "api/v1/docs": _NOTHING,
    "api/v1/prior-approvals/<number>": _OWN_RECORDS,
    "api/v1/prior-approvals/<number>/cancel": _OWN_RECORDS,
    "api/v1/claims/<claim_id>": _OWN_RECORDS,
    "api/v1/statements": _OWN_RECORDS,
    "fhir/r4/metadata": _NOTHING,
    "lots/<int:lot_id>/": _OWN_RECORDS,
    "api/v1/lots/<lot_id>": _OWN_RECORDS,
    "api/v1/lots/<lot_id>/results": _OWN_RECORDS,
    # Corrections (issue 16): the professional's own invoice, state and events; the patient
    # is never named (a rectification prices the replacement for the original's patient
    # without disclosing anything about them).
    "suivi-factures/": _OWN_RECORDS,
    "suivi-factures/<int:invoice_id>/": _OWN_RECORDS,
    "suivi-factures/<int:invoice_id>/annuler/": _OWN_RECORDS,
    "suivi-factures/<int:invoice_id>/contester/": _OWN_RECORDS,
    "suivi-factures/<int:invoice_id>/rectifier/": _OWN_RECORDS,
    "api/v1/invoices/<invoice_number>": _OWN_RECORDS,
    "api/v1/invoices/<invoice_number>/cancel": _OWN_RECORDS,
    "api/v1/invoices/<invoice_number>/rectify": _OWN_RECORDS,
    "api/v1/invoices/<invoice_number>/dispute": _OWN_RECORDS,
    "fhir/r4/Task": _OWN_RECORDS,
    "fhir/r4/ClaimResponse": _OWN_RECORDS,
    "fhir/r4/PaymentReconciliation/<int:statement_id>": _OWN_RECORDS,
    # Return lines (issue 16): events of the professional's own invoices, by invoice number;
    # no patient at all (not even the internal id), so no disclosure-log row and no quota.
    "retours/": _OWN_RECORDS,
    "retours/retours.csv": _OWN_RECORDS,
    "api/v1/returns": _OWN_RECORDS,
    "api/v1/returns.csv": _OWN_RECORDS,
}

_STAFF_ACCOUNTS = (
    "back-office accounts and their second factors, managed by staff holding the accounts "
    "permissions, scoped (tests/test_access_walk.py): not a member's data"
)
_GUARD = (
    "the guard's alerts, volumes and suspensions: professionals' internal ids and counts, "
    "for the security role (tests/guard)"
)

_APPROVALS = (
    "the insurer's pending approvals: numbers, amounts, act codes, the professional; the "
    "patient by internal id only, scoped (tests/test_access_walk.py)"
)

_CORRECTIONS = (
    "overpayment balances and disputes (issue 16): invoice numbers, amounts, events and "
    "reasons, the professional; never the patient, scoped to the insurer "
    "(tests/test_access_walk.py)"
)

#: Back-office routes with a view of their own -> why it returns no member's personal data.
BACKOFFICE_NOT_PERSONAL_DATA: dict[str, str] = {
    "admin/login/": _OWN_ACCOUNT,
    "admin/logout/": _NOTHING,
    "admin/password_change/": _OWN_ACCOUNT,
    "admin/password_change/done/": _NOTHING,
    "admin/jsi18n/": _NOTHING,
    "admin/r/<path:content_type_id>/<path:object_id>/": "a redirect to the object's own page",
    "admin/auth/user/<id>/courriel/": _STAFF_ACCOUNTS,
    "admin/auth/user/<id>/password/": _STAFF_ACCOUNTS,
    "admin/otp_totp/totpdevice/<int:pk>/config/": _STAFF_ACCOUNTS,
    "admin/otp_totp/totpdevice/<int:pk>/qrcode/": _STAFF_ACCOUNTS,
    "admin/guard/alert/tableau-de-bord/": _GUARD,
    "admin/guard/alert/confinement/": _GUARD,
    "admin/guard/suspension/<int:suspension_id>/lever/": _GUARD,
    "admin/payments/bankreturnfile/importer/": (
        "a bank return file's upload: answers counts of transfers and claims, never a person "
        "(tests/care/test_bank_returns.py)"
    ),
    # Review queue of pending approvals (issue 15 part 5): numbers, amounts, act codes and the
    # professional, within the staff member's insurer; never a member's name, NIR or birth date.
    "admin/corrections/ledgerentry/soldes/": _CORRECTIONS,
    "admin/corrections/ledgerentry/soldes/<int:invoice_id>/abandon/": _CORRECTIONS,
    "admin/corrections/ledgerentry/contestations/": _CORRECTIONS,
    "admin/corrections/ledgerentry/contestations/<int:invoice_id>/decision/": _CORRECTIONS,
    "admin/priorauth/priorapproval/a-examiner/": _APPROVALS,
    "admin/priorauth/priorapproval/<int:pk>/decider/": _APPROVALS,
    # Insurers' settlements (issue 16 parts 6 and 7), scoped to the staff member's insurer.
    "admin/settlement/insurerfunding/definir/": (
        "an insurer's (company) funding account, IBAN written encrypted and shown masked; "
        "operator staff only (tests/settlement/test_admin.py)"
    ),
    "admin/settlement/insurersettlement/<path:object_id>/fichier/<str:kind>/": (
        "a run's settlement files of the insurer: amounts, codes, invoice numbers, the "
        "professional's national id and the member by internal id (UUID) only, never a NIR, "
        "name or birth date (tests/settlement/test_settlement.py); scoped "
        "(tests/test_access_walk.py)"
    ),
    "admin/settlement/insurersettlement/retards/": (
        "the insurer's late invoices: numbers, dates, days, the professional's national id; "
        "no member (tests/settlement/test_admin.py); scoped (tests/test_access_walk.py)"
    ),
}

#: Each gate function: where it lives, and what it must reach to count and to log.
GATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "check_rights": (
        "eligibility/services.py",
        ("consume_rights_check_quota", "record_disclosure"),
    ),
    "read_access_history": ("eligibility/services.py", ("_counted_history_read",)),
    "read_own_history": ("eligibility/services.py", ("_counted_history_read",)),
    "read_history_as_staff": ("eligibility/services.py", ("_counted_history_read",)),
    "_counted_history_read": (
        "eligibility/services.py",
        ("consume_read_quota", "record_disclosure"),
    ),
    "request_prior_approval": ("priorauth/services.py", ("identify",)),
    "submit_claim": ("claims/services.py", ("identify",)),
    "identify": ("priorauth/gate.py", ("check_rights",)),
    "calculate": ("calculations/services.py", ("check_rights",)),
    "read_attestation_as_staff": (
        "attestations/services.py",
        ("consume_read_quota", "record_disclosure"),
    ),
    "schedule_lot": ("invoices/tasks.py", ("adjudicate_lot_task",)),
    "adjudicate_lot_task": ("invoices/tasks.py", ("adjudicate_lot",)),
    "adjudicate_lot": ("invoices/lots.py", ("adjudicate_chunk",)),
    "adjudicate_chunk": ("invoices/lots.py", ("adjudicate",)),
    "adjudicate": ("invoices/lots.py", ("identify_patient",)),
    "identify_patient": ("invoices/lots.py", ("check_rights",)),
}


def names_in(node: ast.AST) -> set[str]:
    return {
        n.id if isinstance(n, ast.Name) else n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Name | ast.Attribute)
    }


def function(module: str, name: str) -> ast.FunctionDef:
    tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    assert len(found) == 1, f"{module} defines {name} {len(found)} times"
    return found[0]


def reaches(gate: str, targets: set[str], seen: frozenset[str] = frozenset()) -> set[str]:
    """The ``targets`` that ``gate`` names, directly or through the gates it calls."""
    module, _ = GATES[gate]
    named = names_in(function(module, gate))
    found = named & targets
    for hop in named & (set(GATES) - seen - {gate}):
        found |= reaches(hop, targets, seen | {gate})
    return found


def test_every_route_outside_the_back_office_is_listed_once() -> None:
    routes = {r for r in all_routes() if not r.startswith("admin/")}
    listed = set(PERSONAL_DATA_READS) | set(NOT_PERSONAL_DATA)
    assert not set(PERSONAL_DATA_READS) & set(NOT_PERSONAL_DATA)
    assert sorted(routes - listed) == [], "new route: list it in tests/test_personal_data_reads.py"
    assert sorted(listed - routes) == [], "route gone: remove it from the lists"


def test_every_personal_data_read_reaches_a_gate_that_counts_and_logs() -> None:
    for route, (module, gate, _) in PERSONAL_DATA_READS.items():
        tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
        assert gate in names_in(tree), f"{route}: {module} does not call {gate}"
        quota = {"consume_rights_check_quota", "consume_read_quota"}
        assert reaches(gate, quota), f"{route}: {gate} reaches no quota"
        assert reaches(gate, {"record_disclosure"}), f"{route}: {gate} writes no log row"


def test_every_personal_data_read_names_a_behaviour_test_that_exists() -> None:
    for route, (_, _, proof) in PERSONAL_DATA_READS.items():
        path, _, name = proof.partition("::")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, name, None)), f"{route}: {proof} does not exist"


def test_a_gate_that_stops_logging_is_caught() -> None:
    assert reaches("read_access_history", {"consume_read_quota", "record_disclosure"}) == {
        "consume_read_quota",
        "record_disclosure",
    }
    assert not reaches("identify", {"consume_read_quota"})  # the rights check counts its own


def backoffice_views() -> dict[str, Any]:
    """Each back-office route with its view function, unwrapped (``admin_view`` and the
    model admin's wrappers removed; a class-based view as its class)."""
    found: dict[str, Any] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and (prefix + str(p.pattern)).startswith("admin/"):
                view = inspect.unwrap(p.callback)
                view = getattr(view, "view_class", view)
                found[prefix + str(p.pattern)] = getattr(view, "__func__", view)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_back_office_page_with_a_view_of_its_own_is_listed_once() -> None:
    own = {
        r for r, view in backoffice_views().items() if view.__name__ not in _GENERATED_ADMIN_VIEWS
    }
    listed = set(BACKOFFICE_PERSONAL_DATA_READS) | set(BACKOFFICE_NOT_PERSONAL_DATA)
    assert not set(BACKOFFICE_PERSONAL_DATA_READS) & set(BACKOFFICE_NOT_PERSONAL_DATA)
    assert sorted(own - listed) == [], "new back-office page: list it in this file"
    assert sorted(listed - own) == [], "back-office page gone: remove it from the lists"


def test_every_back_office_personal_data_read_reaches_a_gate_that_counts_and_logs() -> None:
    views = backoffice_views()
    for route, (module, gate, proof) in BACKOFFICE_PERSONAL_DATA_READS.items():
        view = views[route]
        expected = "tierspayant." + module.removesuffix(".py").replace("/", ".")
        assert view.__module__ == expected, f"{route}: served by {view.__module__}"
        tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
        assert gate in names_in(tree), f"{route}: {module} does not call {gate}"
        assert reaches(gate, {"consume_read_quota"}), f"{route}: {gate} reaches no quota"
        assert reaches(gate, {"record_disclosure"}), f"{route}: {gate} writes no log row"
        path, _, name = proof.partition("::")
        tests = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(tests, name, None)), f"{route}: {proof} does not exist"
