# servicedesk — the two commands of the README:
#   make run   set up everything and serve the demo on http://127.0.0.1:8000 with a worker and beat
#   make test  set up everything and run the whole suite against PostgreSQL, Redis, Celery and Chromium
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# wrk is for `make bench` only (throughput); the rest are the suite's real services.
DEBIAN_PACKAGES := postgresql redis-server chromium wrk

.PHONY: run test install services lint bench load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes; installs exactly what it declares.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The suite's real services: on Debian as root, install what is missing; elsewhere say what is.
services:
	@missing=""; \
	for pkg in $(DEBIAN_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Not installed:$$missing — the tests that need them will be skipped (install them to run the whole suite)."; \
	  fi; \
	fi

# Where `make run` serves, and the address printed QR codes and e-mail links start with (SITE_URL): set both, and
# ALLOWED_HOSTS, on the command line to open the customer's pages from a phone (README, Demo logins).
BIND ?= 127.0.0.1:8000
SITE_URL ?= http://localhost:8000

run: install
	mkdir -p var
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py seed_demo --once
	@echo
	@echo "  servicedesk is starting on http://$(BIND)"
	@echo "  demo logins (password: demo): csr csr2 csr3, manager manager2, technician tech2 ... tech8, sales"
	@echo "  Printed QR codes and links in e-mails point at $(SITE_URL) (SITE_URL)."
	@address=$$(hostname -I 2>/dev/null | awk '{print $$1}'); address=$${address:-<this machine's address>}; \
	echo "  A phone cannot open localhost; to try them from a phone on this network:"; \
	echo "    make run BIND=0.0.0.0:8000 SITE_URL=http://$$address:8000 ALLOWED_HOSTS=$$address,127.0.0.1,localhost"
	@echo "  Ctrl-C stops the web server and the worker."
	@echo
	@trap 'kill $$(jobs -p) 2>/dev/null; wait; exit 0' INT TERM; \
	DEBUG=true SITE_URL=$(SITE_URL) $(BIN)/celery -A servicedesk worker -B -l info --concurrency 1 & \
	DEBUG=true SITE_URL=$(SITE_URL) $(BIN)/python manage.py runserver $(BIND) & \
	wait

# The layers first (pyproject.toml, [tool.importlinter]): a broken layer fails in seconds, before the suite.
test: install services
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --durations=20

# Performance figures on a large data set (see README, Performance); loads it once, then reuses it.
bench: install services
	$(BIN)/python -m tests.bench

# 50 simulated CSRs and technicians against gunicorn + PostgreSQL + Redis on the bench's data set (see README).
load: install services
	$(BIN)/pip install --quiet -e '.[test,load]'
	$(BIN)/python -m tests.load

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var/broker var/celerybeat-schedule*
