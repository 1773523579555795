"""Back-office page titles in correct French: "Sélectionnez le bénéficiaire à modifier".

Django builds the titles of the list and form pages from the model's ``verbose_name`` and
its own translations ("Select %s to change", "Change %s", "Add %s"), which French renders
without an article: "Sélectionnez l'objet bénéficiaire à changer", "Modification de
alerte". French needs the noun's gender (``le``/``la``, ``un``/``une``) and the elision before
a vowel (``l'alerte``), which no verbose_name carries: :data:`FEMININE` names the feminine
models, every other registered model is masculine. :class:`FrenchTitles` puts these titles on
the list and form pages; every back-office admin has it through
:class:`accounts.backoffice.ScopedAdmin`, their one base.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse

#: ``app_label.model_name`` of the registered models whose verbose_name is feminine.
FEMININE = frozenset(
    {
        "axes.accessattempt",  # tentative de connexion
        "axes.accesslog",  # connexion
        "audit.disclosurelog",  # divulgation
        "claims.claim",  # facture
        "guard.alert",  # alerte de sécurité
        "guard.suspension",
        "invoices.invoice",  # facture (toutes professions)
        "invoices.referencetable",  # nomenclature
        "payments.paymentrun",  # campagne de paiement
        "prosanteconnect.prosanteconnectlink",  # liaison Pro Santé Connect
        "priorauth.reviewrule",  # règle d'examen des accords
    }
)

_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüœæh")


def definite(verbose_name: str, *, feminine: bool) -> str:
    """``le bénéficiaire``, ``la facture``, ``l'alerte de sécurité``."""
    if verbose_name[:1].lower() in _VOWELS:
        return f"l'{verbose_name}"
    return f"{'la' if feminine else 'le'} {verbose_name}"


def indefinite(verbose_name: str, *, feminine: bool) -> str:
    """``un bénéficiaire``, ``une facture``."""
    return f"{'une' if feminine else 'un'} {verbose_name}"


def _names(opts: Any) -> tuple[str, str]:
    feminine = opts.label_lower in FEMININE
    name = str(opts.verbose_name)
    return definite(name, feminine=feminine), indefinite(name, feminine=feminine)


def list_title(opts: Any, *, popup: bool, can_change: bool) -> str:
    """The list page's title (Django's rules: popup, change or view permission)."""
    the, _ = _names(opts)
    if popup:
        return f"Sélectionnez {the}"
    return f"Sélectionnez {the} à {'modifier' if can_change else 'consulter'}"


def form_title(opts: Any, *, add: bool, can_change: bool) -> str:
    """The form page's title: ``Ajouter une facture``, ``Modifier le contrat``,
    ``Consulter l'alerte de sécurité``."""
    the, a = _names(opts)
    if add:
        return f"Ajouter {a}"
    return f"{'Modifier' if can_change else 'Consulter'} {the}"


class FrenchTitles(admin.ModelAdmin):  # type: ignore[type-arg]
    """Puts the French titles above in the list and form pages' context (Django lets
    ``extra_context`` override its own ``title``)."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        title = list_title(
            self.opts,
            popup=IS_POPUP_VAR in request.GET,
            can_change=self.has_change_permission(request),
        )
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        title = form_title(self.opts, add=True, can_change=True)
        return super().add_view(request, form_url, {"title": title, **(extra_context or {})})

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        title = form_title(
            self.opts, add=False, can_change=self.has_change_permission(request, obj)
        )
        return super().change_view(
            request, object_id, form_url, {"title": title, **(extra_context or {})}
        )

