"""The portal's rectification form (issue 16 part 3): a plain HTML form, the replacement's
header (new number, care date, reason) and a fixed number of line rows, the original's lines
pre-filled plus ``SPARE_ROWS`` empty ones (an empty row is ignored). Amounts are euros
("12.81" or "12,81"), rates percents. The other header fields (nature of insurance,
exemption, regimes, prescriber, prescription date, end of care) are the original's; the
declared totals are the sums of the lines (``invoices.inputs.InvoiceInput``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms

from tierspayant.coverage import SanteClass
from tierspayant.invoices.choices import CodeSystem
from tierspayant.invoices.inputs import InvoiceInput, LineInput
from tierspayant.invoices.models import Invoice

#: Empty line rows offered under the original's lines.
SPARE_ROWS = 2
ZERO = Decimal("0.00")


class EuroField(forms.DecimalField):
    """A decimal typed with a comma or a point, in a text box (no browser spinner)."""

    def __init__(self, label: str, *, max_digits: int = 12, **kwargs: Any) -> None:
        super().__init__(
            label=label,
            required=False,
            max_digits=max_digits,
            decimal_places=2,
            min_value=ZERO,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 7}),
            **kwargs,
        )

    def to_python(self, value: Any) -> Any:  # Decimal | None (the stubs say int)
        if isinstance(value, str):
            value = value.replace(",", ".").strip()
        return super().to_python(value)


class RectifyForm(forms.Form):
    """The replacement's header and why the original is rectified."""

    invoice_number = forms.CharField(label="Nouveau numéro de facture", max_length=40)
    care_date = forms.DateField(
        label="Date des soins", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(label="Motif de la rectification", max_length=300)


class RectifyLineForm(forms.Form):
    """One line row; blank (every box empty) means no line."""

    code_system = forms.ChoiceField(
        label="Système de codage", choices=[("", "—"), *CodeSystem.choices], required=False
    )
    code = forms.CharField(
        label="Code", max_length=20, required=False, widget=forms.TextInput(attrs={"size": 13})
    )
    coefficient = EuroField("Coefficient", max_digits=7)
    quantity = forms.IntegerField(
        label="Quantité",
        required=False,
        min_value=1,
        max_value=9999,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
    )
    unit_price = EuroField("Prix unitaire (€)")
    billed = EuroField("Montant facturé (€)")
    br = EuroField("Base de remboursement (€)")
    amo_rate = EuroField("Taux AMO (%)", max_digits=5, max_value=Decimal("100"))
    amo_paid = EuroField("Montant AMO (€)")
    participation_forfaitaire = EuroField("Participation forfaitaire (€)")
    franchise = EuroField("Franchise (€)")
    sante_class = forms.ChoiceField(
        label="Classe 100 % Santé",
        choices=[("", "—"), *((c.value, c.value) for c in SanteClass)],
        required=False,
    )
    price_limit = EuroField("Prix limite de vente (€)")

    #: What a non-blank row must give.
    REQUIRED = (
        "code_system",
        "code",
        "quantity",
        "unit_price",
        "billed",
        "br",
        "amo_rate",
        "amo_paid",
    )

    def is_blank(self) -> bool:
        """Every box of the row is empty (as typed, whatever its validity)."""
        return not any(
            str(self.data.get(self.add_prefix(name), "")).strip() for name in self.fields
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.is_blank():
            for name in self.REQUIRED:
                if name not in self.errors and data.get(name) in (None, ""):
                    self.add_error(name, "Valeur requise.")
        return data

    def line(self) -> LineInput:
        """The row as a line of the replacement (a valid, non-blank row)."""
        data = self.cleaned_data
        return LineInput(
            code_system=CodeSystem(data["code_system"]),
            code=data["code"].strip(),
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            billed=data["billed"],
            br=data["br"],
            amo_rate=data["amo_rate"],
            amo_paid=data["amo_paid"],
            participation_forfaitaire=data["participation_forfaitaire"] or ZERO,
            franchise=data["franchise"] or ZERO,
            coefficient=data["coefficient"],
            sante_class=SanteClass(data["sante_class"]) if data["sante_class"] else None,
            price_limit=data["price_limit"],
        )


class BaseLineFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """The line rows; at least one non-blank row."""

    def clean(self) -> None:
        if any(self.errors):
            return
        if all(form.is_blank() for form in self.forms):
            raise forms.ValidationError("Lignes : indiquez au moins une ligne.")


def line_formset(invoice: Invoice, data: Any = None) -> BaseLineFormSet:
    """The line rows of ``invoice``'s rectification form: its lines pre-filled, then
    ``SPARE_ROWS`` empty rows; bound to ``data`` (a POST) when given (never more rows)."""
    rows = [
        {
            "code_system": line.code_system,
            "code": line.code,
            "coefficient": line.coefficient,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "billed": line.billed,
            "br": line.br,
            "amo_rate": line.amo_rate,
            "amo_paid": line.amo_paid,
            "participation_forfaitaire": line.participation_forfaitaire,
            "franchise": line.franchise,
        }
        for line in invoice.lines.all()
    ]
    count = len(rows) + SPARE_ROWS
    factory = forms.formset_factory(
        RectifyLineForm,
        formset=BaseLineFormSet,
        extra=SPARE_ROWS,
        max_num=count,
        absolute_max=count,
        validate_max=True,
    )
    if data is None:
        return cast(BaseLineFormSet, factory(prefix="lignes", initial=rows))
    return cast(BaseLineFormSet, factory(data, prefix="lignes"))


def line_errors(formset: BaseLineFormSet) -> list[str]:
    """The rows' errors in French, each naming its row and field ("Ligne 2, quantité :
    ...")."""
    found = [str(message) for message in formset.non_form_errors()]
    for index, form in enumerate(formset.forms, start=1):
        for name, messages in form.errors.items():
            label = form.fields[name].label if name in form.fields else "ligne"
            found.extend(f"Ligne {index}, {str(label).lower()} : {m}" for m in messages)
    return found


def replacement(original: Invoice, header: RectifyForm, formset: BaseLineFormSet) -> InvoiceInput:
    """The replacement invoice from valid forms: the original's other header fields, the
    non-blank rows, totals the sums of the lines (euros)."""
    lines = tuple(form.line() for form in formset.forms if not form.is_blank())
    return InvoiceInput(
        invoice_number=header.cleaned_data["invoice_number"].strip(),
        care_date=header.cleaned_data["care_date"],
        care_end_date=original.care_end_date,
        insurance_nature=original.insurance_nature,
        exemption=original.exemption,
        amo_regime=original.amo_regime,
        local_regime=original.local_regime,
        prescriber_rpps=original.prescriber_rpps,
        prescription_date=original.prescription_date,
        total_billed=sum((line.billed for line in lines), ZERO),
        total_amo=sum((line.amo_paid for line in lines), ZERO),
        lines=lines,
    )
