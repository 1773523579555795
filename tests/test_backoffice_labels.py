"""The back-office speaks French (issue 13 item 13): every registered admin's list page
(title, column headers, filter titles) and form page (title, field labels) as the operator
sees them, the labels behind them, and the custom pages' titles (printed once)."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import result_headers
from django.contrib.admin.utils import label_for_field
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from tests.auth_helpers import staff_with_passkey
from tests.factories import make_beneficiary
from tierspayant.accounts.admin_titles import definite, form_title, list_title
from tierspayant.guard.choices import Action, AlertKind, Severity
from tierspayant.guard.models import Alert, LockdownEvent, Suspension

pytestmark = pytest.mark.django_db

#: Words of the English labels Django makes from attribute names, and of its own English.
ENGLISH = re.compile(
    r"\b(select|change|view|add|contract|quality|rights?|insurer|start|end|created|expires|"
    r"revoked|last|used|status|kind|severity|raised|closed|professional|beneficiary|amount|"
    r"reason|occurred|outcome|purpose|channel|display|prefix|scopes|name|number|user|"
    r"holder|requested|confirmed|effective|superseded|active|from|to|by|at|of|the|is|"
    r"credential|device|attempt|key|created|updated|data)\b",
    re.IGNORECASE,
)
#: Attribute names whose French label is the same word.
SAME_IN_FRENCH = {
    "position",
    "code",
    "total",
    "profession",
    "action",
    "source",
    "session",
    "permissions",
    "id",
}


def english(text: str) -> list[str]:
    return ENGLISH.findall(str(text))


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_superuser(
        username="operateur", password="correct-horse-battery-staple-42"
    )


@pytest.fixture
def client(operator):
    return staff_with_passkey(operator)


@pytest.fixture
def records(optician) -> None:
    """One record of the kinds the security team reads, besides those sign-in leaves."""
    now = timezone.now()
    make_beneficiary()
    alert = Alert.objects.create(
        raised_at=now,
        kind=AlertKind.UNUSUAL_HOUR,
        severity=Severity.LOW,
        action=Action.ALERT,
        professional=optician,
        channel="portal",
        evidence={"hour": 3, "usual_from": 7, "usual_to": 18},
    )
    Suspension.objects.create(
        professional=optician, alert=alert, reason=AlertKind.CANARY, suspended_at=now
    )
    LockdownEvent.objects.create(at=now, active=True, source="admin", reason="essai")


#: Libraries whose admin labels cannot be translated: django-otp's TOTP device fields are
#: plain English strings, not marked for translation ("drift", "key", "digits"...).
LIBRARIES = {"otp_totp"}
#: Columns a library names from a method without a description (django-axes' "Status").
UNTRANSLATABLE = {("axes", "accessattempt", "status"): "Status"}


def registered() -> list:
    return sorted(
        (item for item in admin.site._registry.items() if item[0]._meta.app_label not in LIBRARIES),
        key=lambda item: item[0]._meta.label,
    )


@pytest.mark.parametrize("model", [m for m, _ in registered()], ids=lambda m: m._meta.label_lower)
def test_labels_behind_every_admin_are_french(model, operator) -> None:
    """Every column, filter and form field of every registered admin has a French label,
    never the one Django derives from the attribute's English name."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = operator
    names = {
        *[n for n in model_admin.get_list_display(request) if n != "__str__"],
        *[
            f if isinstance(f, str) else f[0]
            for f in model_admin.get_list_filter(request)
            if isinstance(f, str | tuple)
        ],
        *model_admin.get_fields(request, model._default_manager.first()),
    }
    bad = {}
    with translation.override("fr"):
        for name in sorted(names):
            label = str(
                label_for_field(
                    name.split("__")[-1] if "__" in name else name,
                    _related(model, name),
                    model_admin,
                )
            )
            derived = name.split("__")[-1].replace("_", " ")
            same = label == derived  # what Django derives when no verbose_name is given
            known = (model._meta.app_label, model._meta.model_name, name) in UNTRANSLATABLE
            if ((same and name not in SAME_IN_FRENCH) or english(label)) and not known:
                bad[name] = label
        verbose = (str(model._meta.verbose_name), str(model._meta.verbose_name_plural))
    assert bad == {}
    assert not english(" ".join(verbose)), verbose
    assert verbose[1] != verbose[0] + "s" or " " not in verbose[0], verbose  # plural agrees


def _related(model, name: str):
    """The model that holds the last field of a ``a__b`` lookup."""
    for part in name.split("__")[:-1]:
        model = model._meta.get_field(part).related_model
    return model


def test_every_list_and_form_page_reads_in_french(client, records) -> None:
    """The rendered pages: titles, column headers, filter titles, field labels."""
    walked_forms = 0
    for model, _ in registered():
        info = (model._meta.app_label, model._meta.model_name)
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, info
        cl = response.context["cl"]
        title = response.context["title"]
        allowed = {v for k, v in UNTRANSLATABLE.items() if k[:2] == info}
        headers = [str(h["text"]) for h in result_headers(cl) if str(h["text"]) not in allowed]
        filters = [str(spec.title) for spec in cl.filter_specs]
        found = english(" ".join([title, *headers, *filters]))
        assert found == [], (info, title, headers, filters)
        assert "objet" not in title, title  # Django's "Sélectionnez l’objet … à changer"
        html = response.content.decode()
        assert html.count("<h1") == 1, info
        obj = model._default_manager.first()
        if obj is None:
            continue
        response = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        assert response.status_code == 200, info
        labels = [
            str(field.field["label"] if isinstance(field.field, dict) else field.field.label)
            for fieldset in response.context["adminform"]
            for line in fieldset
            for field in line
        ]
        found = english(" ".join([response.context["title"], *labels]))
        assert found == [], (info, response.context["title"], labels)
        walked_forms += 1
    assert walked_forms >= 8  # users, professional, beneficiary, contract, alert, ...


@pytest.mark.parametrize(
    ("label", "feminine", "change", "view", "add"),
    [
        (
            "registry.beneficiary",
            False,
            "Sélectionnez le bénéficiaire à modifier",
            "Consulter le bénéficiaire",
            "Ajouter un bénéficiaire",
        ),
        (
            "guard.alert",
            True,
            "Sélectionnez l'alerte de sécurité à modifier",
            "Consulter l'alerte de sécurité",
            "Ajouter une alerte de sécurité",
        ),
        (
            "claims.claim",
            True,
            "Sélectionnez la facture à modifier",
            "Consulter la facture",
            "Ajouter une facture",
        ),
        (
            "registry.insurer",
            False,
            "Sélectionnez l'organisme complémentaire à modifier",
            "Consulter l'organisme complémentaire",
            "Ajouter un organisme complémentaire",
        ),
    ],
)
def test_titles_agree_in_gender_and_elide(label, feminine, change, view, add) -> None:
    from django.apps import apps

    opts = apps.get_model(label)._meta
    assert list_title(opts, popup=False, can_change=True) == change
    assert form_title(opts, add=False, can_change=False) == view
    assert form_title(opts, add=True, can_change=True) == add
    assert definite("suspension", feminine=True) == "la suspension"


def test_alert_pages_show_evidence_as_a_sentence(client, records) -> None:
    alert = Alert.objects.get()
    sentence = "Vérifications à 3 h, alors que ce compte travaille habituellement de 7 h à 19 h."
    for url in (
        reverse("admin:guard_alert_changelist"),
        reverse("admin:guard_alert_change", args=[alert.pk]),
        reverse("admin:guard_dashboard"),
    ):
        html = client.get(url).content.decode()
        assert sentence in html, url
        assert "usual_from" not in html, url


@pytest.mark.parametrize(
    ("url", "title"),
    [
        (lambda: reverse("admin:guard_dashboard"), "Tableau de bord sécurité"),
        (
            lambda: reverse("admin:guard_suspension_lift", args=[Suspension.objects.get().pk]),
            "Lever la suspension du compte",
        ),
        (lambda: reverse("admin:audit_history_search"), "Historique des accès"),
    ],
)
def test_custom_pages_print_their_title_once(client, records, url, title) -> None:
    html = client.get(url()).content.decode()
    assert html.count("<h1") == 1
    assert re.search(rf"<h1[^>]*>{title}", html)


def test_records_name_themselves_in_french(optician) -> None:
    """An object's name heads its page and names it in lists: no stored code in it."""
    import datetime
    import uuid

    from tierspayant.accounts.choices import SecurityEventKind
    from tierspayant.accounts.models import SecurityEvent
    from tierspayant.audit.models import DisclosureLog

    at = datetime.datetime(2026, 3, 2, 9, 5, tzinfo=datetime.UTC)
    log = DisclosureLog.objects.create(
        occurred_at=at,
        request_id=uuid.uuid4(),
        channel="portal",
        purpose="rights_check",
        outcome="no_match",
    )
    event = SecurityEvent.objects.create(
        user=optician.user, kind=SecurityEventKind.PASSKEY_ADDED, at=at
    )
    assert str(log) == f"#{log.pk} Vérification des droits : Aucune correspondance"
    assert str(event) == "Clé d'accès ajoutée (02/03/2026 09:05)"
    lockdown = LockdownEvent(at=at, active=True, source="admin", reason="essai")
    assert str(lockdown) == "02/03/2026 09:05 : portail fermé"
    suspension = Suspension(professional=optician, reason=AlertKind.CANARY, suspended_at=at)
    assert str(suspension) == (
        f"suspension du professionnel {optician.pk} (Bénéficiaire leurre consulté)"
    )
