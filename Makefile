# One command per habit. Everything installs from pyproject.toml + requirements.lock.
PY        ?= python3
VENV      := .venv
BIN       := $(VENV)/bin
PG_URL    ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
HOST      ?= 127.0.0.1
PORT      ?= 8000

.PHONY: install run test test-sqlite test-postgres lint fmt bench lock migrate clean

$(BIN)/uv:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet uv

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

lock: | $(BIN)/uv  ## re-resolve requirements.lock after changing pyproject.toml
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --generate-hashes --no-header \
		--python-version 3.11 -o requirements.lock

migrate: install
	ODOP_ENV=development $(BIN)/odop-sync db upgrade

# Demo mode's sandboxes are reached at the address the server listens on.
run: export ODOP_PUBLIC_BASE_URL = http://$(HOST):$(PORT)
run: install migrate  ## install, migrate, seed the demo catalog, serve on 127.0.0.1:8000
	ODOP_ENV=development $(BIN)/odop-sync demo
	@echo "API docs: http://$(HOST):$(PORT)/docs   demo keys: var/demo-keys.env"
	ODOP_ENV=development $(BIN)/odop-sync serve --host $(HOST) --port $(PORT)

test: install test-sqlite test-postgres  ## the whole suite (schemathesis included) on SQLite and PostgreSQL

test-sqlite: install
	$(BIN)/pytest -q -p no:cacheprovider

test-postgres: install  ## the suite on the PostgreSQL at PG_URL, or on a throwaway one if none answers
	$(BIN)/python -m tests.pg_for_tests --url '$(PG_URL)' -- $(BIN)/pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check src adapters tests bench
	$(BIN)/ruff format --check src adapters tests bench
	$(BIN)/mypy src adapters

fmt: install
	$(BIN)/ruff check --fix src adapters tests bench
	$(BIN)/ruff format src adapters tests bench

bench: install
	$(BIN)/python -m bench.ingest --rows 10000
	$(BIN)/python -m bench.sync --skus 20000 --alibaba-skus 500
	$(BIN)/python -m bench.orders --orders 100000 --lines 1000000
	$(BIN)/python -m bench.pages --lines 1000000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
