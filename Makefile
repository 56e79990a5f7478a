# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint format translations messages

# Re-install only when the dependency list changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d app/translations 2>&1 | tail -n 2

## Install, migrate, load demo data and serve on http://$(HOST):$(PORT) (SQLite, local media).
run: install
	FLASK_DEBUG=1 $(FLASK) db upgrade
	FLASK_DEBUG=1 $(FLASK) seed demo
	FLASK_DEBUG=1 $(FLASK) run --host $(HOST) --port $(PORT)

## Lint, format check and the whole test suite (SQLite, or TEST_DATABASE_URL).
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Re-extract translatable strings and merge them into the catalogs.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs '.* __pycache__ .venv' -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching
