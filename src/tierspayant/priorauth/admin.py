"""Back-office: approvals and commitments, read-only (they change through services only);
the review queue of pending approvals and its decision page (issue 15 part 5, issue 19
part 4); the insurers' review rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.priorauth.choices import reason_label
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.lpp import InvalidCareRequest
from tierspayant.priorauth.models import Commitment, PriorApproval, PriorApprovalLine, ReviewRule
from tierspayant.priorauth.selectors import review_queue
from tierspayant.priorauth.services import (
    ApprovalNotPending,
    DecisionNotComputable,
    decide_pending,
)

DECIDE_PERMISSION = "priorauth.decide_priorapproval"


class PriorApprovalLineInline(admin.TabularInline):
    model = PriorApprovalLine
    extra = 0
    can_delete = False
    readonly_fields = (
        "position",
        "code",
        "label",
        "tooth",
        "side",
        "billed",
        "price_limit",
        "amo",
        "amc",
        "rac",
        "reasons",
        "alternative",
    )
    fields = readonly_fields


class DecisionForm(forms.Form):
    """Staff's decision on a pending approval: accept or refuse, with a reason."""

    decision = forms.ChoiceField(
        label="Décision",
        choices=[("accept", "Accorder"), ("refuse", "Refuser")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Motif (communiqué au professionnel)",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(PriorApproval)
class PriorApprovalAdmin(ScopedAdmin):
    insurer_path = "insurer"
    list_display = [
        "number",
        "kind",
        "professional",
        "insurer",
        "decision",
        "status",
        "total_amc",
        "review_deadline",
        "expires_on",
    ]
    list_filter = ["decision", "kind", "status", "domain", "review_reason"]
    search_fields = ["number"]
    inlines = [PriorApprovalLineInline]
    readonly_fields = tuple(f.name for f in PriorApproval._meta.fields)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def get_urls(self) -> list[Any]:
        return [
            path(
                "a-examiner/",
                self.admin_site.admin_view(self.queue_view),
                name="priorauth_review_queue",
            ),
            path(
                "<int:pk>/decider/",
                self.admin_site.admin_view(self.decide_view),
                name="priorauth_decide",
            ),
            *super().get_urls(),
        ]

    def _may_decide(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(DECIDE_PERMISSION)

    def queue_view(self, request: HttpRequest) -> HttpResponse:
        """Pending approvals within the staff member's scope, nearest deadline first; late
        ones marked. Needs ``priorauth.decide_priorapproval``."""
        if not self._may_decide(request):
            raise PermissionDenied
        now = timezone.now()
        rows = [
            {
                "approval": approval,
                "late": approval.review_deadline is not None and approval.review_deadline < now,
                "url": reverse("admin:priorauth_decide", args=[approval.pk]),
            }
            for approval in review_queue(self.get_queryset(request))[:200]
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Accords en attente d'examen",
            "rows": rows,
            "now": now,
        }
        return render(request, "admin/priorauth/review_queue.html", context)

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """One pending approval: its lines and amounts, the deadline, the decision form
        (accept or refuse, reason required). Out of scope or unknown: 404."""
        if not self._may_decide(request):
            raise PermissionDenied
        approval = (
            self.get_queryset(request)
            .select_related("professional", "insurer")
            .filter(pk=pk)
            .first()
        )
        if approval is None:
            raise Http404("objet introuvable")
        form = DecisionForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    decide_pending(
                        CareConfig.from_settings(settings),
                        approval=approval,
                        staff=request.user,
                        accept=form.cleaned_data["decision"] == "accept",
                        note=form.cleaned_data["note"],
                        now=timezone.now(),
                        today=timezone.localdate(),
                    )
                except (ApprovalNotPending, DecisionNotComputable) as exc:
                    messages.error(request, exc.message)
                    status = 409
                except InvalidCareRequest as exc:
                    form.add_error("note", exc.message)
                    status = 400
                else:
                    messages.success(
                        request, f"Accord {approval.number} décidé ; le professionnel est informé."
                    )
                    return redirect(reverse("admin:priorauth_review_queue"))
            else:
                status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": f"Décider l'accord {approval.number}",
            "approval": approval,
            "lines": [
                {"line": line, "reasons": [reason_label(c) for c in line.reasons]}
                for line in approval.lines.all()
            ],
            "reasons": [reason_label(c) for c in approval.reasons],
            "late": approval.review_deadline is not None
            and approval.review_deadline < timezone.now(),
            "form": form,
        }
        return render(request, "admin/priorauth/decide.html", context, status=status)


@admin.register(Commitment)
class CommitmentAdmin(ScopedAdmin):
    insurer_path = "beneficiary__contract__insurer"
    list_display = ["source", "reference", "benefit_year", "expires_on", "released_at"]
    list_filter = ["source"]
    readonly_fields = tuple(f.name for f in Commitment._meta.fields)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(ReviewRule)
class ReviewRuleAdmin(ScopedAdmin):
    """An insurer's staff set which approvals of their contracts wait for review."""

    insurer_path = "insurer"
    list_display = [
        "__str__",
        "insurer",
        "contract",
        "domain",
        "amount_above",
        "second_within_days",
        "review_days",
    ]
    list_filter = ["domain"]
    fields = [
        "insurer",
        "contract",
        "domain",
        "amount_above",
        "second_within_days",
        "review_days",
    ]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """No bulk deletion: a rule is removed from its own page, one at a time."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
