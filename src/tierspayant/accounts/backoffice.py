"""The back-office (Django admin) opens only to active staff whose session passed a *passkey*.

Staff see every insurer's register, lift suspensions and reset lost factors: a phished staff
password plus a relayed TOTP code would be worse than the 2024 attacks. So the admin demands
the phishing-resistant factor (issue 8: passkeys "the required factor for staff"; NIST
SP 800-63B-4 §3.2.5; ASVS 5.0 V6.5.x). The admin's own password + TOTP form is replaced by
the portal's sign-in, which offers the passkey:

- not signed in: the portal's sign-in page, coming back to the admin page asked for;
- signed in, second factor not yet given: the portal's second-factor page (passkey offered);
- staff verified with TOTP or a recovery code: the step-up page, passkey only;
- staff without any passkey: the security page, to ask for one, which another staff member
  approves (:mod:`tierspayant.accounts.enrolment`: a relayed TOTP sign-in cannot plant it);
- not staff: 403;
- already admitted: straight to the page asked for.

During a lockdown the portal is closed, but the security team must still reach the
back-office, where the lockdown is switched off: only accounts for which
:func:`may_sign_in_during_lockdown` holds get past the password then, and only the passkey
steps stay open to them (``portal.middleware.GuardMiddleware``, docs/security.md).

Every registered model admin derives from :class:`ScopedAdmin` (the back-office rule,
``docs/security.md``): insurer staff (``registry.InsurerStaff``) reach only their own insurer's
rows, through one per-model path (``insurer_path``; ``None``: operator staff only); a row
outside the scope answers 404 on every page (change, delete, history, custom views) and is out
of reach of actions, autocomplete, list filters and foreign-key choices. Fields listed in
``security_fields`` (the canary flag) show only to the operator's security role
(:data:`SECURITY_ROLE`); the back-office never writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_otp.admin import OTPAdminSite

from tierspayant.accounts.access import PASSKEY, holds_passkey, second_factor_method
from tierspayant.accounts.admin_titles import FrenchTitles


def may_sign_in_during_lockdown(user: Any) -> bool:
    """True for an active staff account holding a confirmed passkey: the only accounts that
    sign in (to the back-office, with that passkey) while the portal is locked down."""
    return bool(user.is_active and user.is_staff) and holds_passkey(user)


class BackOfficeSite(OTPAdminSite):
    """:class:`django_otp.admin.OTPAdminSite` (active staff, verified session), and the
    session's last second factor was a passkey. ``login`` sends to the portal's steps."""

    site_header = "tierspayant · back-office"

    def has_permission(self, request: HttpRequest) -> bool:
        """Active staff, verified in this session, by a passkey."""
        return super().has_permission(request) and second_factor_method(request) == PASSKEY

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Route to the step still missing (see the module docstring); never a form here."""
        target = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = ""
        # The path only: an admin URL's query string may carry a search term (a name), which
        # must not travel through the sign-in pages' URLs and access logs.
        target = urlsplit(target).path or reverse("admin:index")
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(target, reverse("portal:login"))
        if self.has_permission(request):
            return redirect(target)
        if not (user.is_active and user.is_staff):
            return HttpResponse("Réservé au personnel de l'opérateur.", status=403)
        if not user.is_verified():  # type: ignore[attr-defined]  # set by OTPMiddleware
            return redirect(f"{reverse('portal:otp-verify')}?{urlencode({'next': target})}")
        if not holds_passkey(user):
            messages.warning(
                request,
                "Le back-office exige une clé d'accès : demandez son enrôlement ci-dessous ; "
                "un autre membre du personnel l'approuve, puis vous l'ajoutez et confirmez "
                "votre identité avec elle.",
            )
            return redirect("portal:security")
        return redirect(f"{reverse('portal:step-up')}?{urlencode({'next': target})}")


#: The operator's security role: the one permission that shows the canary flag (field,
#: column, filter). Granted to operator staff through a group; insurer staff never hold it in
#: effect, even if granted (a superuser holds every permission).
SECURITY_ROLE = "accounts.operator_security"


def staff_insurer(user: Any) -> Any:
    """The insurer (``registry.Insurer``) ``user`` works for (``registry.InsurerStaff``, reached
    through its reverse accessor: ``accounts`` sits below ``registry``), or None for operator
    staff."""
    link = getattr(user, "insurer_staff", None)
    return link.insurer if link is not None else None


def staff_insurer_id(user: Any) -> int | None:
    """The id of :func:`staff_insurer` without loading the insurer, or None for operator
    staff."""
    link = getattr(user, "insurer_staff", None)
    return link.insurer_id if link is not None else None


def holds_security_role(user: Any) -> bool:
    """True for operator staff holding :data:`SECURITY_ROLE` (never for insurer staff)."""
    return staff_insurer_id(user) is None and bool(user.has_perm(SECURITY_ROLE))


def scoped_queryset(
    site: admin.AdminSite, request: HttpRequest, model: type[models.Model]
) -> models.QuerySet[Any]:
    """``model``'s rows ``request.user`` may reach in the back-office: its admin's scoped
    queryset; for a model without an admin, everything for operator staff, nothing for insurer
    staff (fail closed)."""
    model_admin = site._registry.get(model)
    if model_admin is not None:
        return model_admin.get_queryset(request)
    manager = model._default_manager
    return manager.all() if staff_insurer_id(request.user) is None else manager.none()


class ScopedAdmin(FrenchTitles):
    """The one base of every back-office model admin (see the module docstring).

    ``insurer_path``: the lookup from the model to the insurer's id (``"insurer"``,
    ``"contract__insurer"``, ``"pk"`` for the insurer itself), or ``None`` for a model only
    operator staff see (professionals, accounts, factors, security records). Required.
    ``security_fields``: fields only :data:`SECURITY_ROLE` sees, read-only for everyone.
    """

    insurer_path: str | None
    security_fields: Sequence[str] = ()

    def __init__(self, model: type[models.Model], admin_site: admin.AdminSite) -> None:
        if not hasattr(self, "insurer_path"):
            raise ImproperlyConfigured(
                f"{type(self).__name__}: declare insurer_path (a lookup to the insurer, "
                "or None for operator staff only)."
            )
        super().__init__(model, admin_site)

    # --- rows -------------------------------------------------------------------------------

    def _closed_to(self, request: HttpRequest) -> bool:
        """True when the user is insurer staff and the model is for operator staff only."""
        return self.insurer_path is None and staff_insurer_id(request.user) is not None

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset = super().get_queryset(request)
        insurer_id = staff_insurer_id(request.user)
        if insurer_id is None:
            return queryset
        if self.insurer_path is None:
            return queryset.none()
        return queryset.filter(**{self.insurer_path: insurer_id})

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        """The object within the user's scope; 404 otherwise (unknown and out-of-scope ids
        answer alike), on change, delete, history and custom views."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("objet introuvable")
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return not self._closed_to(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._closed_to(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return not self._closed_to(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._closed_to(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._closed_to(request) and super().has_delete_permission(request, obj)

    # --- choices offered in forms and filters ------------------------------------------------

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault(
            "queryset", scoped_queryset(self.admin_site, request, db_field.related_model)
        )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault(
            "queryset", scoped_queryset(self.admin_site, request, db_field.related_model)
        )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        """Relation filters offer only the values present in the scoped rows (another
        insurer's name never appears); security fields only for the security role."""
        shown = []
        for entry in super().get_list_filter(request):
            name = entry if isinstance(entry, str) else None
            if name is not None and self._hidden(request, name):
                continue
            if name is not None and self._is_relation(name):
                entry = (name, admin.RelatedOnlyFieldListFilter)
            shown.append(entry)
        return shown

    def _is_relation(self, path: str) -> bool:
        model: Any = self.model
        field = None
        for part in path.split("__"):
            field = model._meta.get_field(part)
            model = field.related_model
            if model is None:
                break
        return field is not None and field.is_relation

    # --- security fields ---------------------------------------------------------------------

    def _hidden(self, request: HttpRequest, name: str) -> bool:
        return name.split("__")[0] in self.security_fields and not holds_security_role(request.user)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        """A security field cannot be filtered on by URL (``?is_canary=1``) without the role."""
        if self._hidden(request, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return [
            f
            for f in super().get_list_display(request)
            if not (isinstance(f, str) and self._hidden(request, f))
        ]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return [f for f in super().get_search_fields(request) if not self._hidden(request, f)]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        exclude = list(super().get_exclude(request, obj) or [])
        if not holds_security_role(request.user):
            exclude += [f for f in self.security_fields if f not in exclude]
        return exclude

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [
            f
            for f in super().get_fields(request, obj)
            if not (isinstance(f, str) and self._hidden(request, f))
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = [
            f for f in super().get_readonly_fields(request, obj) if not self._hidden(request, f)
        ]
        if holds_security_role(request.user):
            readonly += [f for f in self.security_fields if f not in readonly]
        return readonly


def unscoped_admins(site: admin.AdminSite) -> list[str]:
    """The labels of registered models whose admin does not derive from :class:`ScopedAdmin`
    (the access walk fails on any)."""
    return sorted(
        model._meta.label
        for model, model_admin in site._registry.items()
        if not isinstance(model_admin, ScopedAdmin)
    )
