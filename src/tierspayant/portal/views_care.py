"""Portal pages of the optician's day: quotes and approvals, invoices, statements.

Thin: parse a form, call ``priorauth``/``claims`` services, render. Every page shows only
the signed-in professional's own objects; another professional's id is a 404. The patient's
identity is typed again for each quote or invoice (it is never stored nor shown back).
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.claims.models import Claim
from tierspayant.claims.selectors import claim_of, claims_of
from tierspayant.claims.services import submit_claim
from tierspayant.guard.services import (
    AccountSuspended,
    GuardUnavailable,
    PortalLocked,
    QuotaExceeded,
    StepUpRequired,
)
from tierspayant.payments.models import Statement
from tierspayant.payments.selectors import (
    statement_file,
    statement_lines,
    statement_of,
    statements_of,
)
from tierspayant.portal.decorators import professional_required
from tierspayant.portal.sessions_security import second_factor_at
from tierspayant.priorauth.adjudication import GuaranteeTableMissing
from tierspayant.priorauth.choices import reason_label
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.gate import BeneficiaryNotFound, Identity
from tierspayant.priorauth.letter import approval_letter
from tierspayant.priorauth.lpp import InvalidCareRequest, LineInput
from tierspayant.priorauth.models import PriorApproval
from tierspayant.priorauth.selectors import approval_of, approvals_of, search_catalogue
from tierspayant.priorauth.services import (
    ApprovalNotCancellable,
    DecisionNotComputable,
    cancel_prior_approval,
    request_prior_approval,
)
from tierspayant.registry.choices import Domain

SIDES = [("", "—"), ("right", "Droit (OD)"), ("left", "Gauche (OG)")]


class IdentityForm(forms.Form):
    """The patient as on the card (the rights check's fields), and the date of care."""

    nir = forms.CharField(
        label="NIR (15 caractères)",
        max_length=25,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    birth_date = forms.CharField(
        label="Date de naissance", max_length=10, widget=forms.DateInput(attrs={"type": "date"})
    )
    rang = forms.CharField(label="Rang de naissance (si jumeaux)", required=False, max_length=1)
    amc_number = forms.CharField(label="Numéro AMC (facultatif)", required=False, max_length=10)
    care_date = forms.CharField(
        label="Date des soins", max_length=10, widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(label="Référence", required=False, max_length=40)

    def identity(self) -> Identity:
        data = self.cleaned_data
        return Identity(
            nir=data["nir"],
            birth_date=data["birth_date"],
            rang=data["rang"] or None,
            amc_number=data["amc_number"] or None,
        )


class LineForm(forms.Form):
    """One line: LPP or CCAM code (the picker searches them by words), eye or ear, tooth
    (dental, FDI), price billed."""

    code = forms.CharField(
        label="Code",
        required=False,
        max_length=100,  # words typed for the picker; the service checks the code itself
        widget=forms.TextInput(
            attrs={
                "data-picker": "1",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "code ou mots : couronne molaire, classe A…",
            }
        ),
    )
    side = forms.ChoiceField(label="Côté", required=False, choices=SIDES)
    tooth = forms.CharField(
        label="Dent (FDI)",
        required=False,
        max_length=2,
        widget=forms.TextInput(attrs={"size": "3", "inputmode": "numeric"}),
    )
    billed = forms.CharField(label="Prix facturé (€)", required=False, max_length=12)


LineFormSet = forms.formset_factory(LineForm, extra=4, max_num=10)

RENEWAL_REASONS = [
    ("", "—"),
    ("correction_change", "Changement de correction (verres)"),
    ("frame_unfit", "Monture inadaptée (enfant de moins de 6 ans)"),
    ("medical_case", "Cas médical listé"),
]


class PrescriptionForm(forms.Form):
    """The prescription: prescriber (RPPS), date; glasses: correction per eye; hearing
    aids: audiogram date (shapes and rules: ``priorauth/prescription.py``)."""

    prescriber_rpps = forms.CharField(label="RPPS du prescripteur", required=False, max_length=11)
    prescribed_on = forms.CharField(
        label="Date de prescription",
        required=False,
        max_length=10,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    right_sphere = forms.CharField(label="OD sphère", required=False, max_length=7)
    right_cylinder = forms.CharField(label="OD cylindre (+)", required=False, max_length=7)
    right_axis = forms.CharField(label="OD axe (°)", required=False, max_length=3)
    right_addition = forms.CharField(label="OD addition", required=False, max_length=6)
    left_sphere = forms.CharField(label="OG sphère", required=False, max_length=7)
    left_cylinder = forms.CharField(label="OG cylindre (+)", required=False, max_length=7)
    left_axis = forms.CharField(label="OG axe (°)", required=False, max_length=3)
    left_addition = forms.CharField(label="OG addition", required=False, max_length=6)
    audiogram_on = forms.CharField(
        label="Date de l'audiogramme (aides auditives)",
        required=False,
        max_length=10,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    renewal_reason = forms.ChoiceField(
        label="Motif de renouvellement anticipé", required=False, choices=RENEWAL_REASONS
    )

    def prescription(self) -> dict[str, object] | None:
        """The service's shape, or None when nothing was typed."""
        data = {key: str(value or "").strip() for key, value in self.cleaned_data.items()}
        if not any(data.values()):
            return None
        out: dict[str, object] = {
            key: data[key]
            for key in ("prescriber_rpps", "prescribed_on", "audiogram_on", "renewal_reason")
            if data[key]
        }
        for side in ("right", "left"):
            eye = {
                part: data[f"{side}_{part}"]
                for part in ("sphere", "cylinder", "axis", "addition")
                if data[f"{side}_{part}"]
            }
            if eye:
                out[side] = eye
        return out


def _lines(formset: Any) -> list[LineInput]:
    return [
        LineInput(
            code=f.cleaned_data["code"],
            billed=f.cleaned_data.get("billed"),
            side=f.cleaned_data.get("side") or None,
            tooth=f.cleaned_data.get("tooth") or None,
        )
        for f in formset.forms
        if f.cleaned_data.get("code")
    ]


def _field_error(
    form: IdentityForm, formset: Any, exc: InvalidCareRequest, date_label: str
) -> None:
    """Put the service's error on the right field (``lines[1].billed`` on line 2's price)."""
    field = exc.field
    if field.startswith("lines["):
        index = int(field[6 : field.index("]")])
        name = field.split(".", 1)[1] if "." in field else ""
        line_form = formset.forms[index] if index < len(formset.forms) else None
        if line_form is not None and name in line_form.fields:
            line_form.add_error(name, exc.message)
            return
        form.add_error(None, f"Ligne {index + 1} : {exc.message}")
        return
    if field == "lines":
        form.add_error(None, exc.message)
        return
    mapped = {
        "planned_date": "care_date",
        "quote_reference": "reference",
        "invoice_number": "reference",
    }.get(field, field)
    if mapped in form.fields:
        form.add_error(mapped, exc.message)
    else:
        form.add_error(None, f"{date_label if field.endswith('date') else field} : {exc.message}")


def _guarded(
    request: HttpRequest,
    call: Any,
    form: IdentityForm,
    formset: Any,
    date_label: str,
    prescription: PrescriptionForm | None = None,
) -> tuple[Any, HttpResponse | None, int]:
    """Run a service call and turn its refusals into the portal's answers."""
    try:
        return call(), None, 200
    except InvalidCareRequest as exc:
        if prescription is not None and exc.field.startswith("prescription"):
            name = exc.field.removeprefix("prescription").strip(".").replace(".", "_")
            if name in prescription.fields:
                prescription.add_error(name, exc.message)
            elif f"{name}_sphere" in prescription.fields:
                prescription.add_error(f"{name}_sphere", exc.message)
            else:
                prescription.add_error(None, exc.message)
            return None, None, 400
        _field_error(form, formset, exc, date_label)
        return None, None, 400
    except BeneficiaryNotFound as exc:
        form.add_error(None, exc.message)
        return None, None, 404
    except StepUpRequired:
        target = f"{reverse('portal:step-up')}?{urlencode({'next': request.path})}"
        return None, redirect(target), 302
    except AccountSuspended:
        return None, render(request, "portal/suspended.html", status=403), 403
    except PortalLocked:
        return None, render(request, "portal/maintenance.html", status=503), 503
    except QuotaExceeded as exc:
        form.add_error(None, exc.message)
        return None, None, 429
    except (GuardUnavailable, GuaranteeTableMissing, DecisionNotComputable):
        form.add_error(None, "Service momentanément indisponible : réessayez dans un instant.")
        return None, None, 503


def _labels(obj: Any) -> list[dict[str, Any]]:
    """Lines with their reason codes in plain French."""
    return [
        {"line": line, "reasons": [(code, reason_label(code)) for code in line.reasons]}
        for line in obj.lines.all()
    ]


@professional_required
@require_http_methods(["GET", "POST"])
def approval_new(request: HttpRequest) -> HttpResponse:
    """A quote (devis) for glasses, hearing aids, dental prostheses: answered at once, as a
    binding approval, or as an estimate (button « Estimer »: nothing committed)."""
    form = IdentityForm(request.POST or None, prefix="")
    form.fields["care_date"].label = "Date prévue de l'équipement"
    form.fields["reference"].label = "Référence du devis (facultatif)"
    formset = LineFormSet(request.POST or None, prefix="lines")
    prescription = PrescriptionForm(request.POST or None, prefix="rx")
    status = 200
    valid = form.is_valid() and formset.is_valid() and prescription.is_valid()
    if request.method == "POST" and valid:
        data = form.cleaned_data
        approval, response, status = _guarded(
            request,
            lambda: request_prior_approval(
                CareConfig.from_settings(settings),
                professional=request.user.professional,  # type: ignore[union-attr]
                identity=form.identity(),
                planned_date=data["care_date"],
                lines=_lines(formset),
                quote_reference=data["reference"],
                context=request_context(request, Channel.PORTAL),
                now=timezone.now(),
                today=timezone.localdate(),
                step_up_verified_at=second_factor_at(request),
                prescription=prescription.prescription(),
                estimate=request.POST.get("estimate") == "1",
            ),
            form,
            formset,
            "Date prévue",
            prescription,
        )
        if response is not None:
            return response
        if approval is not None:
            return redirect("portal:care-approval", approval_id=approval.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "portal/care_approval_form.html",
        {
            "form": form,
            "formset": formset,
            "prescription": prescription,
        },
        status=status,
    )


@professional_required
def catalogue(request: HttpRequest) -> JsonResponse:
    """The code picker's search: ``?q=<words>&date=<AAAA-MM-JJ>&domaine=<optical|audio|
    dental>`` -> ``{"results": [{code, label, domain, class, br, price_limit, teeth}]}``
    (at most 20; reference data, no personal data). A bad date means today."""
    try:
        day = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    raw_domain = request.GET.get("domaine", "")
    domain = Domain(raw_domain) if raw_domain in Domain.values else None
    entries = search_catalogue(request.GET.get("q", "")[:100], care_date=day, domain=domain)
    return JsonResponse(
        {
            "results": [
                {
                    "code": e.code,
                    "label": e.label,
                    "domain": e.domain.label,
                    "class": e.class_label,
                    "br": f"{e.br:.2f}",
                    "price_limit": f"{e.price_limit:.2f}" if e.price_limit is not None else "",
                    "teeth": e.teeth,
                }
                for e in entries
            ]
        }
    )


@professional_required
def approvals(request: HttpRequest) -> HttpResponse:
    """The professional's approvals."""
    rows = approvals_of(request.user.professional)[:200]  # type: ignore[union-attr]
    return render(
        request, "portal/care_approvals.html", {"approvals": rows, "today": timezone.localdate()}
    )


def _own_approval(request: HttpRequest, approval_id: int) -> PriorApproval:
    try:
        return approval_of(request.user.professional, pk=approval_id)  # type: ignore[union-attr]
    except PriorApproval.DoesNotExist:
        raise Http404 from None


@professional_required
def approval_detail(request: HttpRequest, approval_id: int) -> HttpResponse:
    """One approval: decision, AMC per line with reasons in French, number, expiry."""
    approval = _own_approval(request, approval_id)
    return render(
        request,
        "portal/care_approval_detail.html",
        {
            "approval": approval,
            "lines": _labels(approval),
            "reasons": [(c, reason_label(c)) for c in approval.reasons],
            "usable": approval.usable(timezone.localdate()),
        },
    )


@professional_required
def approval_letter_pdf(request: HttpRequest, approval_id: int) -> HttpResponse:
    """The approval's letter of agreement or refusal (PDF, calculation line by line)."""
    approval = _own_approval(request, approval_id)
    response = HttpResponse(approval_letter(approval), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="lettre-{approval.number}.pdf"'
    return response


@professional_required
@require_POST
def approval_cancel(request: HttpRequest, approval_id: int) -> HttpResponse:
    """Cancel an open approval (releases the ceilings it held)."""
    approval = _own_approval(request, approval_id)
    try:
        cancel_prior_approval(
            professional=request.user.professional,  # type: ignore[union-attr]
            approval=approval,
            now=timezone.now(),
        )
        messages.success(request, "Accord annulé.")
    except ApprovalNotCancellable as exc:
        messages.error(request, exc.message)
    return redirect("portal:care-approval", approval_id=approval.pk)


@professional_required
@require_http_methods(["GET", "POST"])
def claim_new(request: HttpRequest) -> HttpResponse:
    """An invoice, optionally using an approval (``?accord=<id>`` fills its lines in)."""
    initial_lines: list[dict[str, Any]] = []
    approval_number = ""
    if request.method == "GET" and request.GET.get("accord", "").isdigit():
        approval = _own_approval(request, int(request.GET["accord"]))
        approval_number = approval.number
        initial_lines = [
            {
                "code": line.code,
                "side": line.side,
                "tooth": line.tooth,
                "billed": f"{line.billed:.2f}",
            }
            for line in approval.lines.all()
        ]
    form = IdentityForm(request.POST or None, prefix="")
    form.fields["reference"].label = "Numéro de facture"
    form.fields["reference"].required = True
    approval_field = forms.CharField(required=False, max_length=20)
    approval_value = (
        request.POST.get("approval_number", approval_number)
        if request.method == "POST"
        else approval_number
    )
    formset = LineFormSet(request.POST or None, prefix="lines", initial=initial_lines or None)
    status = 200
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        submitted, response, status = _guarded(
            request,
            lambda: submit_claim(
                CareConfig.from_settings(settings),
                professional=request.user.professional,  # type: ignore[union-attr]
                identity=form.identity(),
                invoice_number=data["reference"],
                care_date=data["care_date"],
                lines=_lines(formset),
                approval_number=approval_field.clean(approval_value),
                context=request_context(request, Channel.PORTAL),
                now=timezone.now(),
                today=timezone.localdate(),
                step_up_verified_at=second_factor_at(request),
            ),
            form,
            formset,
            "Date des soins",
        )
        if response is not None:
            return response
        if submitted is not None:
            return redirect("portal:care-claim", claim_id=submitted.claim.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "portal/care_claim_form.html",
        {"form": form, "formset": formset, "approval_number": approval_value},
        status=status,
    )


@professional_required
def claims(request: HttpRequest) -> HttpResponse:
    """The professional's invoices."""
    rows = claims_of(request.user.professional)[:200]  # type: ignore[union-attr]
    return render(request, "portal/care_claims.html", {"claims": rows})


@professional_required
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    """One invoice: status, AMC per line, reasons in French."""
    try:
        claim = claim_of(request.user.professional, claim_id)  # type: ignore[union-attr]
    except Claim.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "portal/care_claim_detail.html",
        {
            "claim": claim,
            "lines": _labels(claim),
            "reasons": [(c, reason_label(c)) for c in claim.reasons],
        },
    )


@professional_required
def statements(request: HttpRequest) -> HttpResponse:
    """The professional's remittance statements."""
    rows = statements_of(request.user.professional)[:200]  # type: ignore[union-attr]
    return render(request, "portal/care_statements.html", {"statements": rows})


@professional_required
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    """One of the professional's statements with its lines: the invoices paid, then the
    overpayments recovered (negative amounts); another's statement is a 404."""
    try:
        statement = statement_of(request.user.professional, statement_id)  # type: ignore[union-attr]
    except Statement.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "portal/care_statement_detail.html",
        {"statement": statement, "lines": statement_lines(statement)},
    )


def _statement_download(request: HttpRequest, statement_id: int, kind: str) -> FileResponse:
    try:
        statement = statement_of(request.user.professional, statement_id)  # type: ignore[union-attr]
    except Statement.DoesNotExist:
        raise Http404 from None
    path = statement_file(statement, kind)
    if not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"releve-{statement.run.reference}.{kind}",
        content_type="application/pdf" if kind == "pdf" else "text/csv; charset=utf-8",
    )


@professional_required
def statement_pdf(request: HttpRequest, statement_id: int) -> Any:
    """Download a statement's PDF."""
    return _statement_download(request, statement_id, "pdf")


@professional_required
def statement_csv(request: HttpRequest, statement_id: int) -> Any:
    """Download a statement's CSV."""
    return _statement_download(request, statement_id, "csv")
