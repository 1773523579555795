"""From findings to alerts and responses, by policy.

Each finding is recorded once per account, kind and window (a day for low and medium
severities, ten minutes for high and critical ones, so a lifted account that relapses is
stopped again), deduplicated by an atomic marker in the counter store. The strongest
response among the new findings is applied; on machine channels (API, FHIR) nobody can
present a second factor, so a step-up becomes a slow-down.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from tierspayant.audit.choices import Channel
from tierspayant.guard.choices import Action, AlertKind, Severity
from tierspayant.guard.counters import BUCKET, DAY, HOUR, Counters, window
from tierspayant.guard.detectors import Finding, campaign_finding
from tierspayant.guard.models import Alert
from tierspayant.guard.notify import tell_security_team
from tierspayant.guard.policy import GuardPolicy
from tierspayant.guard.suspension import (
    require_step_up,
    revoke_token,
    slow_down,
    suspend_account,
)
from tierspayant.providers.models import Professional

HUMAN_CHANNELS = frozenset({Channel.PORTAL})
#: Findings about an API token rather than its owner: the token is revoked. A token seen
#: from more networks than a practice uses is also a suspension (its severity's action).
TOKEN_KINDS = frozenset({AlertKind.TOKEN_FOREIGN_NETWORK})
_ALARMING = [Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


def action_for(finding: Finding, *, channel: str, policy: GuardPolicy) -> Action:
    """The policy's response to ``finding`` on ``channel`` (step-up -> slow-down off the
    portal)."""
    action = policy.action_for(finding.severity)
    if action is Action.STEP_UP and channel not in HUMAN_CHANNELS:
        return Action.SLOW_DOWN
    return action


def _window_key(finding: Finding, now: datetime.datetime, day: datetime.date) -> str:
    if finding.severity.rank >= Severity.HIGH.rank:
        return f"{day.isoformat()}:{window(now, 2 * BUCKET)}"
    return day.isoformat()


def _grade(finding: Finding) -> str:
    """A kind whose severity grows with volume (``low_follow_up``) is raised again, once,
    when it reaches a higher severity the same day."""
    return f":{finding.severity}" if finding.kind is AlertKind.LOW_FOLLOW_UP else ""


def respond(
    findings: Sequence[Finding],
    *,
    counters: Counters,
    professional: Professional,
    channel: str,
    now: datetime.datetime,
    day: datetime.date,
    policy: GuardPolicy,
    token_id: int | None = None,
) -> list[Alert]:
    """Record the new findings as alerts and apply the strongest response. Returns the new
    alerts (empty when every finding was already raised in its window).

    Escalation: the ``policy.escalate_after``-th distinct medium finding of an account in a
    day suspends it, whatever was answered in between (an answered step-up does not wipe the
    day's evidence: the count lives in the counter store for the day). A token's own finding
    (:data:`TOKEN_KINDS`) revokes the request's token (``token_id``) and leaves the owner's
    sessions alone."""
    new = [
        f
        for f in findings
        if counters.first_time(
            f"a:{professional.pk}:{f.kind}{_grade(f)}:{_window_key(f, now, day)}", ttl=2 * DAY
        )
    ]
    if not new:
        return []
    mediums = sum(1 for f in new if f.severity is Severity.MEDIUM)
    if mediums:
        seen = counters.incr(
            f"esc:{professional.pk}:{day.isoformat()}", ttl=2 * DAY, amount=mediums
        )
        if seen >= policy.escalate_after and seen - mediums < policy.escalate_after:
            new.append(
                Finding(
                    kind=AlertKind.ESCALATION,
                    severity=Severity.HIGH,
                    evidence={"count": seen, "threshold": policy.escalate_after},
                )
            )
    alerts = [
        Alert.objects.create(
            raised_at=now,
            kind=f.kind,
            severity=f.severity,
            action=(
                Action.REVOKE_TOKEN
                if f.kind in TOKEN_KINDS and token_id is not None
                else Action.SUSPEND
                if f.kind is AlertKind.ESCALATION
                else action_for(f, channel=channel, policy=policy)
            ),
            professional=professional,
            channel=str(channel),
            evidence=f.evidence,
        )
        for f in new
    ]
    if token_id is not None and any(Action(a.action) is Action.REVOKE_TOKEN for a in alerts):
        revoke_token(token_id=token_id, now=now)
    top = max(alerts, key=lambda a: (Action(a.action).rank, Severity(a.severity).rank))
    action = Action(top.action)
    if action is Action.SUSPEND:
        suspend_account(
            professional=professional,
            reason=top.kind,
            now=now,
            alert=top,
            security_emails=policy.security_emails,
        )
    elif action is Action.STEP_UP:
        require_step_up(professional=professional, now=now)
    elif action is Action.SLOW_DOWN:
        slow_down(
            professional=professional,
            until=now + datetime.timedelta(minutes=policy.slow_down_minutes),
        )
    if top.severity in (Severity.HIGH, Severity.CRITICAL) and action is not Action.SUSPEND:
        tell_security_team(
            recipients=policy.security_emails,
            subject=f"alerte « {top.get_kind_display()} » sur le compte {professional.pk}",
            lines=[f"Alerte : {top.pk}", f"Preuves : {top.evidence_text()}"],
            when=now,
        )
    if any(Severity(a.severity) in _ALARMING for a in alerts):
        alerts += check_campaign(counters=counters, now=now, policy=policy)
    return alerts


def check_campaign(
    *, counters: Counters, now: datetime.datetime, policy: GuardPolicy
) -> list[Alert]:
    """Raise the platform-wide campaign alert (once an hour) when enough distinct accounts
    raised medium or worse alerts within ``policy.campaign_minutes``; tell the security team,
    who may decide a lockdown."""
    since = now - datetime.timedelta(minutes=policy.campaign_minutes)
    accounts = (
        Alert.objects.filter(
            raised_at__gt=since,
            raised_at__lte=now,
            professional__isnull=False,
            severity__in=_ALARMING,
        )
        .values("professional")
        .distinct()
        .count()
    )
    finding = campaign_finding(accounts, policy=policy)
    if finding is None or not counters.first_time(
        f"a:platform:{AlertKind.CAMPAIGN}:{window(now, HOUR)}", ttl=2 * HOUR
    ):
        return []
    alert = Alert.objects.create(
        raised_at=now,
        kind=finding.kind,
        severity=finding.severity,
        action=Action.ALERT,
        professional=None,
        evidence=finding.evidence,
    )
    tell_security_team(
        recipients=policy.security_emails,
        subject=f"campagne : {accounts} comptes en alerte en {policy.campaign_minutes} min",
        lines=[f"Alerte : {alert.pk}", "Envisager `tierspayant lockdown on`."],
        when=now,
    )
    return [alert]
