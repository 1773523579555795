"""Portal URLs (French page names would leak nothing either way; ids only, never personal data)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from tierspayant.portal import security_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("connexion/code/", views.otp_verify, name="otp-verify"),
    path("connexion/activer-2fa/", views.otp_setup, name="otp-setup"),
    path("compte/mot-de-passe/", views.password_change, name="password-change"),
    # Password reset by e-mail (Django's views): one answer whether or not the address is
    # known, and a reset changes the password only — the second factor stays required.
    path(
        "mot-de-passe-oublie/",
        auth_views.PasswordResetView.as_view(
            template_name="portal/password_reset.html",
            email_template_name="portal/password_reset_email.txt",
            subject_template_name="portal/password_reset_subject.txt",
            success_url="/mot-de-passe-oublie/envoye/",
        ),
        name="password-reset",
    ),
    path(
        "mot-de-passe-oublie/envoye/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_done.html"),
        name="password-reset-done",
    ),
    path(
        "mot-de-passe-oublie/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal/password_reset_confirm.html",
            success_url="/connexion/",
            post_reset_login=False,
        ),
        name="password-reset-confirm",
    ),
    path("droits/", views.rights_check, name="rights-check"),
    path("jetons/", views.api_tokens, name="api-tokens"),
    path("jetons/<int:token_id>/revoquer/", views.api_token_revoke, name="api-token-revoke"),
    # Account security (issue 8): passkeys, recovery codes, sessions, step-up.
    path("connexion/confirmer/", security_views.step_up, name="step-up"),
    path("connexion/code-de-secours/", security_views.recovery_verify, name="recovery-verify"),
    path("securite/", security_views.security_home, name="security"),
    path(
        "securite/cles/<int:passkey_id>/supprimer/",
        security_views.passkey_delete,
        name="passkey-delete",
    ),
    path(
        "securite/cles/enrolement/",
        security_views.passkey_enrolment_request,
        name="passkey-enrolment",
    ),
    path(
        "securite/cles/enrolement/code/",
        security_views.passkey_enrolment_code,
        name="passkey-enrolment-code",
    ),
    path(
        "securite/cles/<int:passkey_id>/retirer/",
        security_views.passkey_remove_with_code,
        name="passkey-remove-with-code",
    ),
    path("securite/codes-de-secours/", security_views.recovery_codes, name="recovery-codes"),
    path("securite/sessions/", security_views.sessions_list, name="sessions"),
    path(
        "securite/sessions/<uuid:public_id>/fermer/",
        security_views.session_end,
        name="session-end",
    ),
]

# care: approvals, claims, payments, bank account
from tierspayant.portal import (  # noqa: E402
    views_bank,
    views_care,
    views_corrections,
    views_lots,
    views_returns,
)

urlpatterns += [
    path("pec/", views_care.approvals, name="care-approvals"),
    path("pec/nouvelle/", views_care.approval_new, name="care-approval-new"),
    path("pec/<int:approval_id>/", views_care.approval_detail, name="care-approval"),
    path("pec/<int:approval_id>/annuler/", views_care.approval_cancel, name="care-approval-cancel"),
    path("pec/catalogue/", views_care.catalogue, name="care-catalogue"),
    path(
        "pec/<int:approval_id>/lettre.pdf",
        views_care.approval_letter_pdf,
        name="care-approval-letter",
    ),
    path("factures/", views_care.claims, name="care-claims"),
    path("lots/", views_lots.lots, name="lots"),
    path("lots/<int:lot_id>/", views_lots.lot_detail, name="lot"),
    path("suivi-factures/", views_corrections.invoices, name="invoices"),
    path("suivi-factures/<int:invoice_id>/", views_corrections.invoice_detail, name="invoice"),
    path(
        "suivi-factures/<int:invoice_id>/annuler/",
        views_corrections.invoice_cancel,
        name="invoice-cancel",
    ),
    path(
        "suivi-factures/<int:invoice_id>/contester/",
        views_corrections.invoice_dispute,
        name="invoice-dispute",
    ),
    path(
        "suivi-factures/<int:invoice_id>/rectifier/",
        views_corrections.invoice_rectify,
        name="invoice-rectify",
    ),
    path("retours/", views_returns.returns, name="returns"),
    path("retours/retours.csv", views_returns.returns_csv, name="returns-csv"),
    path("factures/nouvelle/", views_care.claim_new, name="care-claim-new"),
    path("factures/<int:claim_id>/", views_care.claim_detail, name="care-claim"),
    path("paiements/", views_care.statements, name="care-statements"),
    path("paiements/<int:statement_id>/", views_care.statement_detail, name="care-statement"),
    path(
        "paiements/<int:statement_id>/releve.pdf",
        views_care.statement_pdf,
        name="care-statement-pdf",
    ),
    path(
        "paiements/<int:statement_id>/releve.csv",
        views_care.statement_csv,
        name="care-statement-csv",
    ),
    path("banque/", views_bank.bank_account, name="bank-account"),
    path("banque/changement/<int:change_id>/", views_bank.bank_confirm, name="bank-confirm"),
    path("banque/changement/<int:change_id>/annuler/", views_bank.bank_cancel, name="bank-cancel"),
]

# Pro Santé Connect (issue 19): sign-in, callback, link from the security page, step-up.
from tierspayant.portal import views_psc  # noqa: E402

urlpatterns += [
    path("connexion/psc/", views_psc.psc_sign_in, name="psc-sign-in"),
    path("connexion/psc/retour/", views_psc.psc_callback, name="psc-callback"),
    path("connexion/confirmer/psc/", views_psc.psc_step_up_start, name="psc-step-up"),
    path("securite/psc/lier/", views_psc.psc_link_start, name="psc-link"),
    path("securite/psc/delier/", views_psc.psc_unlink, name="psc-unlink"),
]
