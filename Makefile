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

# Pyodide (CPython for WebAssembly) for Code nodes in Python: the npm package, its tarball checked against
# this digest, unpacked where settings.CODE_PYODIDE_DIR looks by default. Deno comes from requirements.txt.
PYODIDE_VERSION := 0.29.0
PYODIDE_SHA256 := 52ea0e976b6e8373ef911f21cb3751ea50b03eb423b093fbfa21ffc27e842f01
$(VENV)/pyodide/pyodide.mjs: $(BIN)/python
	@command -v npm >/dev/null 2>&1 || { echo "npm is required to fetch Pyodide"; exit 1; }
	rm -rf $(VENV)/pyodide $(VENV)/pyodide-download && mkdir -p $(VENV)/pyodide-download $(VENV)/pyodide
	cd $(VENV)/pyodide-download && npm pack --silent pyodide@$(PYODIDE_VERSION) >/dev/null
	echo "$(PYODIDE_SHA256)  $(VENV)/pyodide-download/pyodide-$(PYODIDE_VERSION).tgz" | sha256sum --check --quiet
	tar -xzf $(VENV)/pyodide-download/pyodide-$(PYODIDE_VERSION).tgz -C $(VENV)/pyodide --strip-components=1
	rm -rf $(VENV)/pyodide-download

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed $(VENV)/pyodide/pyodide.mjs
install-dev: $(VENV)/.installed-dev $(VENV)/pyodide/pyodide.mjs

# Debug mode by default so that a fresh clone needs no secret; production sets DJANGO_DEBUG=false and the rest.
# uvicorn, not runserver: runserver (WSGI) would hold a live run's event stream back until the run ends.
# --no-proxy-headers: Weft reads X-Forwarded-For itself (TRUSTED_PROXY_COUNT); see gunicorn.conf.py.
# --reload-dir: without watchfiles uvicorn polls every file under the reload folders once a second; the default
# (the whole project, .venv's thousands of files included) costs 15-30 % of a core while idle. Only the apps'
# Python is watched (tests/test_makefile.py checks that every package is listed).
RELOAD_DIRS := accounts connections core engine evaluations mcp_server runs triggers uploads workflows workflowsite
RELOAD := --reload $(addprefix --reload-dir ,$(RELOAD_DIRS))
run: export DJANGO_DEBUG ?= true
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python -m uvicorn workflowsite.asgi:application --host $(HOST) --port $(PORT) $(RELOAD) --no-proxy-headers

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
