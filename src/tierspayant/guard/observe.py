"""Gathering one lookup's features from live counters, at lookup time.

The NIR, IP address and user agent are in hand here and nowhere after: each is reduced to a
short keyed hash (HMAC-SHA256 under the index key, truncated to 32-48 bits: a bucket shared
by many values, not an identifier) used only inside counter keys that expire within hours
(NIR) or weeks (IP, user agent). Alerts get counts, never these values.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from tierspayant.guard.counters import BUCKET, DAY, HOUR, MINUTE, Counters, Get, Incr, window
from tierspayant.guard.detectors import Features
from tierspayant.guard.quotas import hour_key

KNOWN_FOR = 60 * DAY  # how long a network or device stays "known" for an account


def bucket(key: bytes, purpose: str, value: str, *, hex_chars: int = 8) -> str:
    """A keyed hash of ``value`` truncated to ``hex_chars`` hex digits (a bucket)."""
    digest = hmac.new(key, f"guard|{purpose}|{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:hex_chars]


def network_of(ip: str) -> str:
    """The /16 (IPv4) or /48 (IPv6) network holding ``ip``; ``ip`` itself if unparsable."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = 16 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@dataclass(frozen=True)
class Lookup:
    """One rights check as the guard sees it. ``nir`` is used only to derive buckets here;
    ``practice`` is the practice key (or None); ``miss`` means no match or invalid input."""

    professional_id: int
    practice: str | None
    now: datetime.datetime
    local_hour: int
    day: datetime.date
    miss: bool
    canary: bool
    nir: str | None
    ip: str | None
    user_agent: str
    hour_count: int
    day_count: int
    invoice: bool = False
    token_id: int | None = None
    portal: bool = False
    matched_lookup: bool = False
    session_minutes: int = 30


def gather(counters: Counters, lookup: Lookup, *, key: bytes, has_history: bool) -> Features:
    """Count ``lookup`` into the live feature counters and return its :class:`Features`.

    ``key`` is the bucket key (bytes); ``has_history`` says whether a first-seen network or
    device is news (an account without history has no "usual" network yet).
    Two storage round trips at most (``Counters.run``). Raises ``GuardUnavailable`` if the
    storage fails.

    Windows: the 5-minute buckets (burst), the clock hour and a sliding hour (the previous
    clock hour weighted by the share of it still inside the last 60 minutes), the day.
    A lot's invoice (``lookup.invoice``) counts its misses and NIR patterns apart from the
    interactive lookups and has no burst (a lot is machine-paced). A request made with an
    API token (``lookup.token_id``) counts its networks on the token, not on the account:
    a token from many networks, or from another network than the owner's portal session of
    the last ``session_minutes``, is a finding on the token.
    """
    pro = f"f:{lookup.professional_id}"
    stream = f"{pro}:i" if lookup.invoice else pro  # counters the invoices keep apart
    hour = window(lookup.now, HOUR)
    elapsed = (int(lookup.now.timestamp()) % HOUR) / HOUR
    day = lookup.day.isoformat()
    five = window(lookup.now, BUCKET)
    ten = window(lookup.now, 2 * BUCKET)
    # First round trip: every counter that does not depend on another's value. A marker
    # (incremented, 1 = first time) gates a follow-up count in the second round trip.
    first: dict[str, Incr | Get] = {
        "hour_before": Get(hour_key(lookup.professional_id, hour - 1, invoice=lookup.invoice)),
    }
    if not lookup.invoice:
        first["burst"] = Incr(f"{pro}:b:{five}", 3 * BUCKET)
        first["burst_before"] = Get(f"{pro}:b:{five - 1}")
    follow: dict[str, Incr] = {}  # counted when the marker of the same name is new
    if lookup.miss:  # a ratio of misses only rises on a miss: judged then
        first["misses"] = Incr(f"{stream}:m:{hour}", HOUR + 60)
        first["misses_before"] = Get(f"{stream}:m:{hour - 1}")
        first["misses_day"] = Incr(f"{stream}:md:{day}", 2 * DAY)
    if lookup.matched_lookup:
        first["matched"] = Incr(f"{pro}:fu:{day}", 2 * DAY)
    if lookup.nir:
        nir_bucket = bucket(key, "nir", lookup.nir)
        prefix_bucket = bucket(key, "nir-prefix", lookup.nir[:10])
        first["pattern"] = Incr(f"{stream}:n:{hour}:{nir_bucket}", HOUR + 60)
        follow["pattern"] = Incr(f"{stream}:p:{hour}:{prefix_bucket}", HOUR + 60)
    session = lookup.session_minutes * MINUTE
    session_window = window(lookup.now, session)
    if lookup.ip:
        ip = bucket(key, "ip", lookup.ip, hex_chars=12)
        net = bucket(key, "net", network_of(lookup.ip), hex_chars=12)
        practice = lookup.practice or f"pro:{lookup.professional_id}"
        first["network"] = Incr(f"{pro}:ip:{ip}", KNOWN_FOR)
        if lookup.token_id is not None:
            token = f"t:{lookup.token_id}"
            first["token_networks"] = Incr(f"{token}:netd:{day}:{net}", 2 * DAY)
            follow["token_networks"] = Incr(f"{token}:netn:{day}", 2 * DAY)
            first["session_any"] = Get(f"{pro}:sa:{session_window}")
            first["session_any_before"] = Get(f"{pro}:sa:{session_window - 1}")
            first["session_here"] = Get(f"{pro}:sn:{session_window}:{net}")
            first["session_here_before"] = Get(f"{pro}:sn:{session_window - 1}:{net}")
        else:
            first["networks_today"] = Incr(f"{pro}:ipd:{day}:{ip}", 2 * DAY)
            follow["networks_today"] = Incr(f"{pro}:ipn:{day}", 2 * DAY)
            first["networks_10min"] = Incr(f"{pro}:net:{ten}:{net}", 4 * BUCKET)
            follow["networks_10min"] = Incr(f"{pro}:netn:{ten}", 4 * BUCKET)
        if lookup.portal:
            first["session_mark"] = Incr(f"{pro}:sa:{session_window}", 2 * session)
            first["session_net"] = Incr(f"{pro}:sn:{session_window}:{net}", 2 * session)
        first["practices"] = Incr(f"ipp:{hour}:{ip}:{practice}", HOUR + 60)
        follow["practices"] = Incr(f"ippn:{hour}:{ip}", HOUR + 60)
        first["practices_seen"] = Get(f"ippn:{hour}:{ip}")
    if lookup.user_agent:
        agent = bucket(key, "ua", lookup.user_agent, hex_chars=12)
        first["device"] = Incr(f"{pro}:ua:{agent}", KNOWN_FOR)
    seen = dict(zip(first, counters.run(list(first.values())), strict=True))
    new = [name for name in follow if seen[name] == 1]
    counted = dict(zip(new, counters.run([follow[name] for name in new]), strict=True))
    burst = seen.get("burst", 0) + seen.get("burst_before", 0)
    misses = seen.get("misses", 0)
    sliding = round(lookup.hour_count + seen["hour_before"] * (1 - elapsed))
    misses_sliding = round(misses + seen.get("misses_before", 0) * (1 - elapsed))
    session_elsewhere = (
        seen.get("session_any", 0) + seen.get("session_any_before", 0) > 0
        and seen.get("session_here", 0) + seen.get("session_here_before", 0) == 0
    )
    pattern = counted.get("pattern", 0)
    networks_today = counted.get("networks_today", 0)
    networks_10min = counted.get("networks_10min", 0)
    practices = counted.get("practices", seen.get("practices_seen", 0))
    new_network = seen.get("network") == 1 and has_history
    new_device = seen.get("device") == 1 and has_history
    return Features(
        burst=burst,
        hour=lookup.hour_count,
        day=lookup.day_count,
        hour_sliding=sliding,
        misses_hour=misses,
        misses_sliding_hour=misses_sliding,
        misses_day=seen.get("misses_day", 0),
        invoice=lookup.invoice,
        matched_today=seen.get("matched", 0),
        token_networks=counted.get("token_networks", 0),
        token_foreign_network=lookup.token_id is not None and session_elsewhere,
        pattern=pattern,
        local_hour=lookup.local_hour,
        new_network=new_network,
        new_device=new_device,
        networks_today=networks_today,
        networks_10min=networks_10min,
        practices_on_network=practices,
        canary=lookup.canary,
    )


def remember_context(
    counters: Counters, *, professional_id: int, key: bytes, ip: str | None, user_agent: str
) -> None:
    """Mark ``ip`` and ``user_agent`` as known for the account (what past weeks of activity
    leave behind; used to seed a replayed history)."""
    pro = f"f:{professional_id}"
    if ip:
        counters.first_time(f"{pro}:ip:{bucket(key, 'ip', ip, hex_chars=12)}", ttl=KNOWN_FOR)
    if user_agent:
        counters.first_time(
            f"{pro}:ua:{bucket(key, 'ua', user_agent, hex_chars=12)}", ttl=KNOWN_FOR
        )
