# Everything a newcomer needs: `make run` serves the demo, `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WEB_WORKERS ?= 1

.PHONY: run test install install-dev frontend translations messages migrate seed lint format bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependencies change, so a second `make run` starts in seconds.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed frontend
install-dev: $(VENV)/.installed-dev frontend
frontend: node_modules/.package-lock.json

translations: $(VENV)/.installed
	$(BIN)/python manage.py compile_translations

# Refresh the catalogs from the source (needs GNU gettext) and fail on any untranslated string.
messages: $(VENV)/.installed
	$(BIN)/python manage.py check_translations

migrate: install translations
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_metropolis

run: seed
	@echo ""
	@echo "  Metropolis Peer Learning Forum: http://$(HOST):$(PORT)/"
	@echo ""
	$(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --workers $(WEB_WORKERS) --lifespan off

test: install-dev translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Side by side with Spirit and a hello-world ceiling on the shared data set (bench/README.md).
# PostgreSQL and Redis must run. The database and Redis named in bench/peers/*.json are emptied
# and seeded (bench_project, Redis db 4): never point them at data you keep.
BENCH_PEERS ?= ../shared/bench-peers
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bench_project
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/9
BENCH_TARGETS ?= --target bench/peers/production.json --target bench/peers/wsgi.json
BENCH_ARGS ?=
bench-peers: install translations
	$(BENCH_PEERS)/spirit/setup.sh
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(BIN)/python bench/peers/seed.py --dataset $(BENCH_PEERS)/dataset
	SECRET_KEY=bench-only-bench-only-bench-only-bench-only-bench-only-0123 ALLOWED_HOSTS=127.0.0.1 \
	  DJANGO_SETTINGS_MODULE=config.settings.production $(BIN)/python manage.py collectstatic --noinput -v 0
	mkdir -p bench/out
	python3 $(BENCH_PEERS)/compare.py $(BENCH_TARGETS) $(BENCH_ARGS) > bench/out/peers.tsv
	python3 $(BENCH_PEERS)/compare.py --table bench/out/peers.tsv

clean:
	rm -rf $(VENV) node_modules var
