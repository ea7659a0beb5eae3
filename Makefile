# The two commands: `make run` (the product with demo data on the embedded default) and
# `make test` (everything CI checks). `make bench` prints the benchmark table.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Settings are production unless DEBUG says otherwise: the development targets say so.
MANAGE := DEBUG=true $(BIN)/python manage.py
# Tests and benchmarks run against the real services of this machine.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/autoservice
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/autoservice_bench
# The hosts the outbound policy lets through despite being internal: the demo suppliers
# (`make run`, `make run-full`) and, for tests and benchmarks, their servers on 127.0.0.1.
DEMO_OUTBOUND_HOSTS := 127.0.0.1:8701,127.0.0.1:8702,127.0.0.1:8703,127.0.0.1:8704,127.0.0.1:8705,127.0.0.1:8706

.PHONY: run run-full test test-s3 bench soak lint fmt messages system-deps browser-deps services demo clean \
	backup restore-drill loadtest

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

system-deps:
	@bash .ci/system-packages gettext

browser-deps:
	@bash .ci/system-packages gettext chromium nginx

services:
	@bash .ci/services

messages: $(VENV)/.installed system-deps
	$(MANAGE) compilemessages -v0 --ignore=.venv --ignore=var

run: $(VENV)/.installed messages
	$(MANAGE) migrate --noinput -v0
	OUTBOUND_ALLOWED_HOSTS=$(DEMO_OUTBOUND_HOSTS) $(MANAGE) demo
	@DEBUG=true OUTBOUND_ALLOWED_HOSTS=$(DEMO_OUTBOUND_HOSTS) bash .ci/serve

# The full stack: PostgreSQL + Redis, web (gunicorn), Celery worker and beat (Procfile).
run-full: $(VENV)/.installed messages services
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/autoservice} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
	OUTBOUND_ALLOWED_HOSTS=$(DEMO_OUTBOUND_HOSTS) bash .ci/run-full

# ruff, then the app-boundary contracts (.importlinter): an import against the direction
# autoservice <- leads <- photoportal | smartcalc <- optima | intake, or into another app's
# private modules, fails the build. Then pip-audit over the virtualenv (.ci/audit; exceptions with
# reasons in .pip-audit-ignore).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo --no-cache
	bash .ci/audit

fmt: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(VENV)/.installed browser-deps services messages lint
	$(MANAGE) makemigrations --check --dry-run
	DEBUG=true DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	CELERY_TASK_ALWAYS_EAGER=true OUTBOUND_ALLOWED_HOSTS=127.0.0.1 \
	$(BIN)/pytest --create-db -n 2 --dist loadgroup
	$(MAKE) --no-print-directory test-s3 S3_TESTS="$(S3_CI_TESTS)" S3_DB_FLAG=--reuse-db

# CI runs the driver's photo form and the staff lead page once more with STORAGE=s3 (the
# s3-fixture tests of object storage already ran above); `make test-s3` runs everything.
S3_CI_TESTS := tests/photoportal/test_photo_form.py tests/leads/test_lead_page.py
S3_TESTS ?=
S3_DB_FLAG ?= --create-db

# The whole suite with every stored file in object storage: STORAGE=s3 against a real S3 API
# on loopback (moto in server mode, one per xdist worker from S3_TEST_PORT=8830; tests/s3.py).
# Each test gets its own bucket and fails if a file lands under MEDIA_ROOT. The S3_* values
# below only satisfy the settings; conftest points every test at its loopback server.
S3_TEST_PORT ?= 8830
test-s3: $(VENV)/.installed browser-deps services messages
	DEBUG=true DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	CELERY_TASK_ALWAYS_EAGER=true OUTBOUND_ALLOWED_HOSTS=127.0.0.1 \
	STORAGE=s3 S3_TEST_PORT=$(S3_TEST_PORT) S3_BUCKET=unused S3_ACCESS_KEY_ID=test \
	S3_SECRET_ACCESS_KEY=test S3_ENDPOINT_URL=http://127.0.0.1:9 \
	$(BIN)/pytest $(S3_DB_FLAG) -n 2 --dist loadgroup $(S3_TESTS)

bench: $(VENV)/.installed services messages
	DEBUG=true DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	CELERY_TASK_ALWAYS_EAGER=true OUTBOUND_ALLOWED_HOSTS=127.0.0.1 \
	$(BIN)/python benchmarks/run.py

# The real stack for SOAK_MINUTES (10): beat's log must stay free of errors.
soak: $(VENV)/.installed services messages
	DEBUG=true DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	$(BIN)/python benchmarks/soak_stack.py

# Backups (autoservice/backup.py), with the production environment (DATABASE_URL, MEDIA_ROOT,
# INTAKE_SEAL_LOG): `make backup` writes BACKUP_DIR (var/backups/<UTC time>). `make
# restore-drill` restores BACKUP=<dir> (or a backup it takes now) into a new database
# (DRILL_DATABASE_URL, created and dropped again) and folder, and verifies it.
BACKUP_DIR ?= var/backups/$(shell date -u +%Y%m%dT%H%M%SZ)
DRILL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/autoservice_restore_drill

backup: $(VENV)/.installed
	$(BIN)/python manage.py backup --to $(BACKUP_DIR)

# With STORAGE=s3 the drill restores the files into a new bucket of the same service
# (DRILL_BUCKET, created and deleted again) instead of a folder.
DRILL_BUCKET ?= autoservice-restore-drill-$(shell date -u +%Y%m%d%H%M%S)
restore-drill: $(VENV)/.installed
	set -e; dir="$(BACKUP)"; \
	if [ -z "$$dir" ]; then dir="$(BACKUP_DIR)"; $(BIN)/python manage.py backup --to "$$dir"; fi; \
	rm -rf var/drill; \
	if [ "$$STORAGE" = "s3" ]; then target="--bucket $(DRILL_BUCKET)"; \
	else target="--media-root var/drill/media"; fi; \
	$(BIN)/python manage.py restore --from "$$dir" --database-url $(DRILL_DATABASE_URL) \
		$$target --seal-log var/drill/intake-seal-log.txt --drill

# The real stack behind nginx under locust (loadtest/run.py): ~2 minutes, a table of rps and
# p50/p95/p99 per route against the bare get-by-PK ceiling; LOADTEST_SOAK_MINUTES=10 runs the
# mix that long and compares memory and queue depths of the first and last minute. Its own
# database (LOADTEST_DATABASE_URL, autoservice_loadtest, recreated) and ports
# (LOADTEST_PORT_BASE, 8840, and the next 10).
loadtest: $(VENV)/.installed browser-deps services messages
	$(BIN)/python loadtest/run.py

clean:
	rm -rf var .pytest_cache
