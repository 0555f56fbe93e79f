# Weft: `make run` serves the app, `make test` runs lint and the test suite. Both set everything up first.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install install-dev worker scheduler clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debug mode by default so that a fresh clone needs no secret; production sets DJANGO_DEBUG=false and the rest.
# uvicorn, not runserver: runserver (WSGI) would hold a live run's event stream back until the run ends.
# --no-proxy-headers: Weft reads X-Forwarded-For itself (TRUSTED_PROXY_COUNT); see gunicorn.conf.py.
run: export DJANGO_DEBUG ?= true
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python -m uvicorn workflowsite.asgi:application --host $(HOST) --port $(PORT) --reload --no-proxy-headers

# A Dramatiq worker for deployments with REDIS_URL (or DRAMATIQ_BROKER_URL) set.
worker: install
	$(BIN)/python manage.py rundramatiq --processes 2 --threads 4

# Starts the runs of due schedules for deployments with a worker (`make run` ticks them in-process).
scheduler: install
	$(BIN)/python manage.py runscheduler

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest --cov --cov-report=term --cov-report=xml -p no:cacheprovider

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .coverage coverage.xml .pytest_cache .ruff_cache staticfiles
