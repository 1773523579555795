"""Access history: exactly the lookups on that person, for the insurer's staff (back-office),
its member apps (FHIR AuditEvent search, NIR only in the POST body) and the person (signed,
expiring link). An insurer never sees another insurer's beneficiaries."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from tests.audit.conftest import log_row
from tests.auth_helpers import staff_with_passkey
from tests.factories import ContractFactory, InsurerFactory, make_beneficiary, make_professional
from tierspayant.audit.choices import InsurerScope, Outcome
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.selectors import access_history
from tierspayant.audit.services import issue_history_link, issue_insurer_token
from tierspayant.registry.models import InsurerStaff

pytestmark = pytest.mark.django_db

KEYS = settings.TIERSPAYANT_KEYRING.encryption
T = datetime.datetime(2026, 1, 5, 8, 30, tzinfo=datetime.UTC)


@pytest.fixture
def world():
    """Two insurers; one person at each (same NIR and birth date: covered twice); a neighbour
    at the first insurer; lookups by two professionals, and misses."""
    alpes = InsurerFactory(amc_number="88333333", name="Mutuelle Alpes")
    ocean = InsurerFactory(amc_number="99444444", name="Océan")
    person = make_beneficiary(contract=ContractFactory(insurer=alpes))
    nir, born = person.nir(KEYS), person.birth_date(KEYS)
    same_at_ocean = make_beneficiary(
        contract=ContractFactory(insurer=ocean), nir=nir, birth_date=born
    )
    neighbour = make_beneficiary(contract=ContractFactory(insurer=alpes))
    optician = make_professional(with_totp=False, siret="11122233300044")
    pharmacist = make_professional(with_totp=False)
    mine = [
        log_row(optician, person, at=T),
        log_row(pharmacist, person, at=T + datetime.timedelta(days=1), outcome=Outcome.NOT_COVERED),
    ]
    log_row(optician, neighbour, at=T + datetime.timedelta(hours=1))
    log_row(optician, same_at_ocean, at=T + datetime.timedelta(hours=2))
    log_row(optician, None, at=T + datetime.timedelta(hours=3))  # no match: nobody's
    return {
        "alpes": alpes,
        "ocean": ocean,
        "person": person,
        "nir": nir,
        "born": born,
        "same_at_ocean": same_at_ocean,
        "neighbour": neighbour,
        "mine": mine,
        "optician": optician,
    }


def test_history_is_exactly_the_lookups_on_that_person(world) -> None:
    entries = access_history(world["person"], insurer=world["alpes"])
    assert [e.log_id for e in entries] == [r.pk for r in reversed(world["mine"])]
    first = entries[-1]
    assert first.professional == world["optician"].display_name
    assert first.practice == "SIRET 11122233300044"
    assert first.purpose_label == "Vérification des droits"
    assert first.fields == ("coverage_status", "rights_period")
    assert access_history(world["person"], insurer=world["ocean"]) == []


# -- back-office --------------------------------------------------------------------------------


def staff_client(insurer=None) -> Client:
    user = get_user_model().objects.create_user(
        username=f"staff-{insurer.amc_number if insurer else 'op'}",
        password="correct-horse-battery-staple-42",
        is_staff=True,
    )
    user.user_permissions.add(Permission.objects.get(codename="view_disclosurelog"))
    if insurer is not None:
        InsurerStaff.objects.create(user=user, insurer=insurer)
    return staff_with_passkey(user)


def test_insurer_staff_see_their_beneficiary_history_only(world) -> None:
    client = staff_client(world["alpes"])
    page = client.get(reverse("admin:audit_history", args=[world["person"].pk]))
    assert page.status_code == 200
    [(shown, entries)] = page.context["histories"]
    assert shown == world["person"]
    rows = [e.log_id for e in entries]
    assert rows == [r.pk for r in reversed(world["mine"])]
    assert world["nir"] not in page.content.decode()
    other = client.get(reverse("admin:audit_history", args=[world["same_at_ocean"].pk]))
    assert other.status_code == 404


def test_insurer_staff_log_list_is_scoped(world) -> None:
    client = staff_client(world["alpes"])
    page = client.get(reverse("admin:audit_disclosurelog_changelist"))
    assert page.status_code == 200
    shown = list(page.context["cl"].result_list)
    assert len(shown) == 3  # the person's two lookups and the neighbour's: nothing else
    assert {row.beneficiary_id for row in shown} == {world["person"].pk, world["neighbour"].pk}
    operator = staff_client()
    everything = operator.get(reverse("admin:audit_disclosurelog_changelist"))
    assert everything.context["cl"].result_count == 5


def test_staff_find_a_member_by_nir_in_the_body_and_issue_a_link(world) -> None:
    client = staff_client(world["alpes"])
    found = client.post(
        reverse("admin:audit_history_search"),
        {"nir": world["nir"], "birth_date": world["born"].isoformat()},
    )
    assert found.status_code == 200  # the history at once: one read, one log row
    assert [b for b, _ in found.context["histories"]] == [world["person"]]
    assert world["nir"] not in found.content.decode()
    view = reverse("admin:audit_history", args=[world["person"].pk])
    assert f'action="{view}"' in found.content.decode()  # the link is issued by the member's page
    issued = client.post(view, {"issue_link": "1"})
    link = issued.context["link"]
    assert link and world["nir"] not in link
    page = Client().get(link)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"


def test_staff_search_never_reaches_another_insurer(world) -> None:
    client = staff_client(world["ocean"])
    page = client.post(
        reverse("admin:audit_history_search"),
        {"nir": world["nir"], "birth_date": world["born"].isoformat()},
    )
    assert page.status_code == 200  # finds Océan's own beneficiary with that identity
    assert [b for b, _ in page.context["histories"]] == [world["same_at_ocean"]]


# -- the person's page -------------------------------------------------------------------------


def test_signed_link_shows_the_person_their_history_and_expires(world) -> None:
    token = issue_history_link(beneficiary=world["person"], insurer=world["alpes"])
    url = reverse("audit-beneficiary-history", args=[token])
    page = Client().get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert world["optician"].display_name in html
    assert "période de droits" in html
    assert [e.log_id for e in page.context["entries"]] == [r.pk for r in reversed(world["mine"])]
    assert world["nir"] not in html and world["nir"] not in url
    later = timezone.now() + datetime.timedelta(days=settings.TIERSPAYANT_AUDIT_LINK_DAYS + 1)
    with time_machine.travel(later, tick=False):
        expired = Client().get(url)
    assert expired.status_code == 404
    assert "a expiré" in expired.content.decode()
    forged = Client().get(url.replace(token[:6], "AAAAAA"))
    assert forged.status_code == 404
    assert "n'est pas valide" in forged.content.decode()


def test_an_insurer_cannot_issue_a_link_for_another_insurers_member(world) -> None:
    from tierspayant.audit.services import InvalidHistoryLink

    with pytest.raises(InvalidHistoryLink):
        issue_history_link(beneficiary=world["same_at_ocean"], insurer=world["alpes"])


# -- FHIR AuditEvent search for the insurer's member apps --------------------------------------


def insurer_token(insurer, scopes=(InsurerScope.AUDIT_READ,), days=30) -> str:
    return issue_insurer_token(
        insurer=insurer, name="app", scopes=list(scopes), now=timezone.now(), valid_days=days
    ).secret


def search(token: str | None, body: dict[str, str], query: str = "", **extra: str):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().post(f"/fhir/r4/AuditEvent/_search{query}", body, **headers, **extra)


def identity(world) -> dict[str, str]:
    return {
        "patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{world['nir']}",
        "patient.birthdate": world["born"].isoformat(),
    }


def test_fhir_search_returns_the_members_audit_events(world) -> None:
    response = search(insurer_token(world["alpes"]), identity(world))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = response.json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 2
    ids = [int(e["resource"]["id"]) for e in bundle["entry"]]
    assert ids == [r.pk for r in reversed(world["mine"])]
    event = bundle["entry"][-1]["resource"]
    assert event["resourceType"] == "AuditEvent"
    assert event["agent"][0]["who"]["display"] == world["optician"].display_name
    assert event["agent"][1]["who"]["identifier"]["value"] == "311122233300044"
    details = {d["type"]: d["valueString"] for d in event["entity"][0]["detail"]}
    assert details["fields-disclosed"] == "coverage_status,rights_period"
    assert event["entity"][0]["what"]["identifier"]["value"] == str(world["person"].pk)
    assert world["nir"] not in json.dumps(bundle)


def test_fhir_search_is_scoped_to_the_tokens_insurer(world) -> None:
    bundle = search(insurer_token(world["ocean"]), identity(world)).json()
    assert [e["resource"]["entity"][0]["what"]["identifier"]["value"] for e in bundle["entry"]] == [
        str(world["same_at_ocean"].pk)
    ]
    other = InsurerFactory(amc_number="77555555")
    empty = search(insurer_token(other), identity(world)).json()
    assert empty["total"] == 0 and "entry" not in empty


def test_fhir_search_date_window(world) -> None:
    body = {**identity(world), "date": "ge2026-01-06"}
    bundle = search(insurer_token(world["alpes"]), body).json()
    assert [int(e["resource"]["id"]) for e in bundle["entry"]] == [world["mine"][1].pk]


@pytest.mark.parametrize(
    ("token_kind", "status"),
    [("none", 401), ("professional", 401), ("expired", 401), ("no-scope", 401)],
)
def test_fhir_search_needs_an_insurer_audit_token(world, token_kind, status) -> None:
    if token_kind == "none":
        token = None
    elif token_kind == "professional":
        from tierspayant.providers.choices import Scope
        from tierspayant.providers.services import issue_api_token

        token = issue_api_token(
            professional=world["optician"],
            name="x",
            scopes=[Scope.ELIGIBILITY_CHECK],
            now=timezone.now(),
            valid_days=1,
        ).secret
    elif token_kind == "expired":
        with time_machine.travel(timezone.now() - datetime.timedelta(days=40), tick=False):
            token = insurer_token(world["alpes"], days=30)
    else:
        token = insurer_token(world["alpes"], scopes=())
    response = search(token, identity(world))
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"


def test_fhir_search_refuses_a_nir_in_the_url_and_bad_parameters(world) -> None:
    token = insurer_token(world["alpes"])
    in_url = search(
        token, {}, query=f"?patient.identifier=urn:oid:1.2.250.1.213.1.4.8|{world['nir']}"
    )
    assert in_url.status_code == 400
    assert world["nir"] not in in_url.content.decode()
    no_birthdate = search(token, {"patient.identifier": identity(world)["patient.identifier"]})
    assert no_birthdate.status_code == 400
    bad_system = search(token, {**identity(world), "patient.identifier": f"x|{world['nir']}"})
    assert bad_system.status_code == 400
    bad_nir = search(
        token, {**identity(world), "patient.identifier": "urn:oid:1.2.250.1.213.1.4.8|123"}
    )
    assert bad_nir.status_code == 400
    assert Client().get("/fhir/r4/AuditEvent/_search").status_code == 405


def test_create_insurer_token_command(world) -> None:
    out = StringIO()
    call_command("create_insurer_token", "88333333", stdout=out, stderr=StringIO())
    secret = out.getvalue().strip()
    assert secret.startswith("tpi_")
    assert search(secret, identity(world)).status_code == 200


# -- the search is itself a read of personal data: counted and logged ---------------------------


def test_fhir_search_is_logged_as_a_read_of_its_own(world) -> None:
    token = insurer_token(world["alpes"])
    before = set(DisclosureLog.objects.values_list("pk", flat=True))
    search(token, identity(world), REMOTE_ADDR="198.51.100.8")
    search(token, {**identity(world), "patient.birthdate": "1901-01-01"})  # nobody
    search(token, {**identity(world), "patient.identifier": "urn:oid:1.2.250.1.213.1.4.8|12"})
    rows = DisclosureLog.objects.exclude(pk__in=before).order_by("pk")
    prefix = token.split("_")[1]
    assert [
        (r.purpose, r.outcome, r.beneficiary_id, r.fields_disclosed, r.reason, r.channel)
        for r in rows
    ] == [
        ("access_history", "history_shown", world["person"].pk, ["access_history"],
         f"insurer_token:{prefix}", "fhir"),
        ("access_history", "no_match", None, [], f"insurer_token:{prefix}", "fhir"),
        ("access_history", "invalid_input", None, [], "nir", "fhir"),
    ]  # fmt: skip
    assert rows[0].ip_address == "198.51.100.8"
    assert rows[0].professional_id is None
    # A read of the history is not a consultation by care: the person's history is unchanged.
    assert [e.log_id for e in access_history(world["person"], insurer=world["alpes"])] == [
        r.pk for r in reversed(world["mine"])
    ]


def test_fhir_search_counts_against_the_insurers_read_quota(world, settings) -> None:
    settings.TIERSPAYANT_HISTORY_READ_HOURLY_QUOTA = 2
    first, second = insurer_token(world["alpes"]), insurer_token(world["alpes"])
    assert search(first, identity(world)).status_code == 200
    assert search(second, identity(world)).status_code == 200  # one quota per insurer
    refused = search(first, identity(world))
    assert refused.status_code == 429
    outcome = refused.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "throttled"
    assert "entry" not in outcome and world["nir"] not in refused.content.decode()
    last = DisclosureLog.objects.order_by("-pk").first()
    assert last is not None
    assert (last.purpose, last.outcome, last.beneficiary_id) == (
        "access_history",
        "refused_quota",
        None,
    )
    assert search(insurer_token(world["ocean"]), identity(world)).status_code == 200


def test_the_persons_link_is_counted_and_each_view_logged(world, settings) -> None:
    settings.TIERSPAYANT_HISTORY_LINK_HOURLY_QUOTA = 2
    url = reverse(
        "audit-beneficiary-history",
        args=[issue_history_link(beneficiary=world["person"], insurer=world["alpes"])],
    )
    before = set(DisclosureLog.objects.values_list("pk", flat=True))
    assert [Client().get(url).status_code for _ in range(3)] == [200, 200, 429]
    rows = DisclosureLog.objects.exclude(pk__in=before).order_by("pk")
    assert [(r.purpose, r.outcome, r.beneficiary_id, r.reason, r.channel) for r in rows] == [
        ("access_history", "history_shown", world["person"].pk, "history_link", "portal"),
        ("access_history", "history_shown", world["person"].pk, "history_link", "portal"),
        ("access_history", "refused_quota", None, "history_link", "portal"),
    ]
    refused = Client().get(url)
    assert refused.status_code == 429
    assert "Trop de consultations" in refused.content.decode()
    # another person's link has its own quota
    other = issue_history_link(beneficiary=world["neighbour"], insurer=world["alpes"])
    assert Client().get(reverse("audit-beneficiary-history", args=[other])).status_code == 200


# -- the back-office's reads: counted per staff member and logged -------------------------------


def staff_rows(before: set[int]) -> list[tuple]:
    rows = DisclosureLog.objects.exclude(pk__in=before).order_by("pk")
    return [(r.purpose, r.outcome, r.beneficiary_id, r.reason, r.channel, r.actor_id) for r in rows]


def log_ids() -> set[int]:
    return set(DisclosureLog.objects.values_list("pk", flat=True))


def test_staff_history_search_and_view_are_logged_as_reads_of_their_own(world) -> None:
    client = staff_client(world["alpes"])
    staff = InsurerStaff.objects.get(insurer=world["alpes"]).user_id
    before = log_ids()
    search_url = reverse("admin:audit_history_search")
    identity = {"nir": world["nir"], "birth_date": world["born"].isoformat()}
    assert client.post(search_url, identity, REMOTE_ADDR="198.51.100.9").status_code == 200
    view = reverse("admin:audit_history", args=[world["person"].pk])
    assert client.get(view).status_code == 200
    missed = client.post(search_url, {**identity, "birth_date": "1901-01-01"})
    assert "Aucun bénéficiaire de votre organisme ne correspond." in missed.content.decode()
    invalid = client.post(search_url, {**identity, "nir": "123"})
    assert "NIR invalide" in invalid.content.decode()
    who = f"staff:{staff}"
    assert staff_rows(before) == [
        ("access_history", "history_shown", world["person"].pk, who, "backoffice", staff),
        ("access_history", "history_shown", world["person"].pk, who, "backoffice", staff),
        ("access_history", "no_match", None, who, "backoffice", staff),
        ("access_history", "invalid_input", None, "nir", "backoffice", staff),
    ]  # fmt: skip
    first = DisclosureLog.objects.exclude(pk__in=before).order_by("pk").first()
    assert first is not None and first.ip_address == "198.51.100.9"
    assert first.fields_disclosed == ["access_history"] and first.professional_id is None
    # reading the history is not a consultation by care: the person's history is unchanged
    assert [e.log_id for e in access_history(world["person"], insurer=world["alpes"])] == [
        r.pk for r in reversed(world["mine"])
    ]


def test_staff_history_reads_count_against_the_staff_members_quota(world, settings) -> None:
    settings.TIERSPAYANT_HISTORY_STAFF_HOURLY_QUOTA = 2
    client = staff_client(world["alpes"])
    search_url = reverse("admin:audit_history_search")
    identity = {"nir": world["nir"], "birth_date": world["born"].isoformat()}
    view = reverse("admin:audit_history", args=[world["person"].pk])
    assert client.post(search_url, identity).status_code == 200
    assert client.get(view).status_code == 200
    before = log_ids()
    refused = client.post(search_url, identity)
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "Quota horaire de consultations atteint : réessayez dans l&#x27;heure." in html
    assert "Trop de consultations d'historiques depuis votre compte" in html
    assert world["person"].first_name not in html and world["nir"] not in html
    assert client.get(view).status_code == 429
    staff = InsurerStaff.objects.get(insurer=world["alpes"]).user_id
    assert staff_rows(before) == [
        ("access_history", "refused_quota", None, f"staff:{staff}", "backoffice", staff),
        ("access_history", "refused_quota", None, f"staff:{staff}", "backoffice", staff),
    ]
    # the quota is the staff member's own: an operator still reads
    assert staff_client().get(view).status_code == 200


def test_staff_never_read_another_insurers_member_and_the_attempt_is_logged(world) -> None:
    client = staff_client(world["ocean"])
    staff = InsurerStaff.objects.get(insurer=world["ocean"]).user_id
    neighbour = world["neighbour"]  # at Alpes only
    before = log_ids()
    page = client.post(
        reverse("admin:audit_history_search"),
        {"nir": neighbour.nir(KEYS), "birth_date": neighbour.birth_date(KEYS).isoformat()},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Aucun bénéficiaire de votre organisme ne correspond." in html
    assert neighbour.last_name not in html
    assert client.get(reverse("admin:audit_history", args=[neighbour.pk])).status_code == 404
    assert staff_rows(before) == [
        ("access_history", "no_match", None, f"staff:{staff}", "backoffice", staff),
        ("access_history", "no_match", None, f"staff:{staff}", "backoffice", staff),
    ]


def test_staff_without_the_log_permission_read_nothing_and_count_nothing(world) -> None:
    client = staff_client(world["alpes"])
    user = InsurerStaff.objects.get(insurer=world["alpes"]).user
    user.user_permissions.clear()
    before = log_ids()
    view = reverse("admin:audit_history", args=[world["person"].pk])
    assert client.get(view).status_code == 403
    assert client.post(reverse("admin:audit_history_search"), {}).status_code == 403
    assert staff_rows(before) == []


def test_staff_search_shows_each_member_sharing_the_identity_and_logs_a_row_each(world) -> None:
    twin = make_beneficiary(
        contract=world["person"].contract, nir=world["nir"], birth_date=world["born"], rang=2
    )
    client = staff_client(world["alpes"])
    staff = InsurerStaff.objects.get(insurer=world["alpes"]).user_id
    before = log_ids()
    page = client.post(
        reverse("admin:audit_history_search"),
        {"nir": world["nir"], "birth_date": world["born"].isoformat()},
    )
    assert page.status_code == 200
    assert {b.pk for b, _ in page.context["histories"]} == {world["person"].pk, twin.pk}
    assert "Plusieurs bénéficiaires correspondent" in page.content.decode()
    assert sorted(staff_rows(before), key=str) == sorted(
        [
            ("access_history", "history_shown", b.pk, f"staff:{staff}", "backoffice", staff)
            for b in (world["person"], twin)
        ],
        key=str,
    )
