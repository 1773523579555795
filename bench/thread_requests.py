"""Memory per request under a thread-per-request server (issue 13): Django's ``runserver``
server (``ThreadedWSGIServer``: a fresh thread per connection, its database connections
closed at the end) on 127.0.0.1, answering authenticated rights checks
(``POST /api/v1/eligibility``) sent one after the other. Prints JSON: the memory still
allocated per request after a warm-up (``tracemalloc``, after a garbage collection), the
process's resident memory growth per request, and how many of the request threads' database
connections are still alive. Run: ``python bench/thread_requests.py`` (from the project root;
a throw-away SQLite database and the test keys); ``BENCH_N`` requests (default 300)."""

from __future__ import annotations

import datetime
import gc
import json
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
import weakref
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.disable(logging.WARNING)
from _machine import emit, machine_facts  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import (  # noqa: E402
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_internal_wsgi_application,
)
from django.db import DEFAULT_DB_ALIAS, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

call_command("migrate", verbosity=0)
from tests.factories import make_beneficiary, make_professional, new_nir  # noqa: E402

from tierspayant.providers.choices import Scope  # noqa: E402
from tierspayant.providers.services import issue_api_token  # noqa: E402

N = int(os.environ.get("BENCH_N", "300"))
WARM_UP = 20
PER_PRACTICE = 5  # checks per professional: below every quota and detector of the test policy
BORN = datetime.date(1990, 6, 30)
NIR = new_nir(BORN)
make_beneficiary(nir=NIR, birth_date=BORN)
BODY = json.dumps({"nir": NIR, "birth_date": BORN.isoformat()}).encode()
SECRETS = [
    issue_api_token(
        professional=make_professional(),
        name="bench",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    ).secret
    for _ in range(-(-(N + WARM_UP) // PER_PRACTICE))
]
connections.close_all()
used: list[weakref.ref[object]] = []
application = get_internal_wsgi_application()


def app(environ, start_response):  # type: ignore[no-untyped-def]
    """The platform, noting which connection the request's thread used."""
    try:
        return application(environ, start_response)
    finally:
        used.append(weakref.ref(connections[DEFAULT_DB_ALIAS]))


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
server.set_app(app)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/eligibility"


def run(count: int, offset: int) -> list[int]:
    statuses = []
    for i in range(offset, offset + count):
        request = urllib.request.Request(
            url,
            data=BODY,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {SECRETS[i // PER_PRACTICE]}",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            statuses.append(response.status)
    return statuses


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()


run(WARM_UP, 0)  # process-wide caches (SQL, imports, templates) fill here
used.clear()
threads_before = threading.active_count()
tracemalloc.start()
gc.collect()
traced_before, rss_before = tracemalloc.get_traced_memory()[0], rss_bytes()
statuses = run(N, WARM_UP)
for _ in range(500):  # the last request's thread closes its connections after answering
    if threading.active_count() <= threads_before:
        break
    time.sleep(0.01)
gc.collect()
traced_after, rss_after = tracemalloc.get_traced_memory()[0], rss_bytes()
server.shutdown()
emit(
    {
        "bench": "thread_requests",
        "requests": N,
        "answered_200": statuses.count(200),
        "retained_traced_bytes_per_request": round((traced_after - traced_before) / N),
        "rss_growth_bytes_per_request": round((rss_after - rss_before) / N),
        "connections_alive_after_their_thread": sum(ref() is not None for ref in used),
        "machine": machine_facts(),
    }
)
