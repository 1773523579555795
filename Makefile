# tierspayant: `make demo` runs the platform, `make test` passes the tests. `make help` lists all.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
# The PostgreSQL run has its own Redis database so it can run beside the SQLite one (db 15).
PG_TEST_REDIS_URL ?= redis://127.0.0.1:6379/14
# The tests' local OpenID provider (Pro Santé Connect tests): panva's oidc-provider, from npm.
OIDC_PROVIDER := tests/oidc_provider
DEMO_ENV := var/demo.env

.DEFAULT_GOAL := help
.PHONY: help demo totp totp-staff approve-staff-passkey test test-sqlite test-postgres lint lock bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.lock requirements-bootstrap.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-bootstrap.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

demo: $(STAMP) ## Seed synthetic data and serve the platform on http://127.0.0.1:8000
	mkdir -p var
	$(BIN)/python -m tierspayant.crypto.keygen $(DEMO_ENV)
	set -a && . ./$(DEMO_ENV) && set +a && export TIERSPAYANT_DEMO=1 && \
	  $(BIN)/tierspayant migrate --no-input -v 0 && \
	  $(BIN)/tierspayant demo && \
	  exec $(BIN)/tierspayant runserver 127.0.0.1:8000 --noreload

totp: $(STAMP) ## Print the demo professional's current TOTP code (demo only)
	@set -a && . ./$(DEMO_ENV) && set +a && TIERSPAYANT_DEMO=1 $(BIN)/tierspayant demo-totp

totp-staff: $(STAMP) ## Print the demo staff account's current TOTP code (demo only)
	@set -a && . ./$(DEMO_ENV) && set +a && TIERSPAYANT_DEMO=1 $(BIN)/tierspayant demo-totp --staff

approve-staff-passkey: $(STAMP) ## Approve the demo staff account's requested first passkey (demo only)
	@set -a && . ./$(DEMO_ENV) && set +a && TIERSPAYANT_DEMO=1 $(BIN)/tierspayant \
	  approve-passkey-enrolment securite.demo --reason "make demo: first staff member"

test: $(STAMP) lint $(OIDC_PROVIDER)/node_modules/.package-lock.json ## Lint, then the whole suite on SQLite and on PostgreSQL, side by side
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: $(STAMP) ## ruff, import-linter layers, mypy
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy src

$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund

test-sqlite: $(STAMP) $(OIDC_PROVIDER)/node_modules/.package-lock.json ## The suite on SQLite
	$(BIN)/pytest --cov=tierspayant.coverage --cov-branch --cov-report=term:skip-covered --cov-fail-under=100

test-postgres: $(STAMP) $(OIDC_PROVIDER)/node_modules/.package-lock.json ## The suite on PostgreSQL ($(PG_URL)) when reachable
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "PostgreSQL reachable at $(PG_URL): running the suite on it"; \
	  DATABASE_URL=$(PG_URL) TIERSPAYANT_TEST_REDIS_URL=$(PG_TEST_REDIS_URL) $(BIN)/pytest -m "not browser"; \
	elif [ -n "$$TIERSPAYANT_REQUIRE_SERVICES" ]; then \
	  echo "PostgreSQL is required (TIERSPAYANT_REQUIRE_SERVICES=1) but $(PG_URL) is unreachable" >&2; exit 1; \
	else \
	  echo "SKIPPED: PostgreSQL not reachable at $(PG_URL); the suite ran on SQLite only"; \
	fi

lock: ## Re-pin every dependency (with hashes) after editing pyproject.toml
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

BENCH_SCALE_COUNT ?= 2000000

bench: $(STAMP) ## Print benchmark figures (JSON); BENCH_SCALE_COUNT=20000000 for the full-size register
	command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	for script in bench/[!_]*.py; do BENCH_SCALE_COUNT=$(BENCH_SCALE_COUNT) $(BIN)/python $$script; done

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var
