# nslab's contract commands: `make run` serves the web lab, `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Written after a successful `pip install`; pyproject.toml being newer means the install is stale.
STAMP := $(VENV)/.nslab-installed
RUN_PORT ?= 8000
# Browser assets (frontend/README.md). Django finds them through STATICFILES_DIRS in two directories:
# frontend/src (the page code as written: labs/, exercises/) and frontend/build (generated and
# git-ignored: build/vendor holds the files of the pinned npm packages, frontend/package-lock.json).
# The page code is served from src/ itself, in development and by collectstatic alike, not copied: a
# copy can be stale (a JS file edited while `make run` serves, a browser test run by `pytest` without
# make) and the page or the test would then run old code unnoticed. So editing JS needs no step at
# all; only a changed lock file needs `make assets`, which `make setup` (hence `make run`, `make test`)
# runs and which does nothing when nothing changed.
FRONTEND := frontend
VENDOR := $(FRONTEND)/build/vendor
VENDOR_FILES := plotly.js-basic-dist-min/plotly-basic.min.js @xterm/xterm/lib/xterm.js @xterm/xterm/css/xterm.css \
	@xterm/addon-fit/lib/addon-fit.js @xterm/addon-web-links/lib/addon-web-links.js

# What the sandboxes and the test suite run on a Debian 12 machine (python3-venv: Debian's
# python3 cannot create a venv without it; libseccomp2: the daemon compiles the sandboxes' seccomp
# filters with it; chromium and a CJK font: the browser test and bench).
APT_PACKAGES := iproute2 iptables nftables conntrack busybox net-tools bridge-utils tcpdump procps \
	util-linux psmisc bubblewrap iputils-ping curl wget socat python3 python3-venv gcc libc6-dev \
	libseccomp2 chromium fonts-wqy-microhei

.PHONY: help setup apt-packages venv assets test lint fmt run bench

help:
	@echo "make run    serve the web lab at http://127.0.0.1:$(RUN_PORT) (demo logins teacher/teacher, student/student);"
	@echo "            HOST=0.0.0.0 serves the classroom network, DEBUG=1 shows tracebacks (developers only)"
	@echo "make test   ruff, the import boundaries and pytest (what CI runs)"
	@echo "make bench  run the benchmarks, write bench/results.json"
	@echo "make setup  install missing Debian packages, the virtualenv $(VENV) and the browser assets"
	@echo "make assets npm ci in $(FRONTEND)/ (pinned packages) and copy their files to $(VENDOR)"
	@echo "make lint   ruff check, ruff format --check, import boundaries"
	@echo "make fmt    ruff format and autofix"

setup: apt-packages venv assets

apt-packages:
	@if ! command -v dpkg >/dev/null; then echo "setup: no dpkg, not Debian: install $(APT_PACKAGES) yourself"; exit 0; fi; \
	missing=$$(for p in $(APT_PACKAGES); do \
		dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed' || echo "$$p"; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "setup: as root, run: apt-get install" $$missing >&2; exit 1; fi; \
		echo "setup: installing" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

# A venv is not relocatable: one whose scripts point elsewhere (a copy, a fresh clone of a tree that
# had one) is rebuilt in place.
venv:
	@if ! { $(BIN)/python -c '' && head -n 1 $(BIN)/pip | grep -qF '#!$(CURDIR)/$(BIN)/python'; } 2>/dev/null; then \
		echo "setup: creating $(VENV) with $$(command -v $(PYTHON))"; \
		$(PYTHON) -m venv --clear $(VENV); \
	fi
	@if [ ! -f $(STAMP) ] || [ pyproject.toml -nt $(STAMP) ]; then \
		$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' && touch $(STAMP); \
	fi

# npm ci writes node_modules/.package-lock.json: older than the lock file means stale.
$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null || { echo "assets: npm not found: install Node.js 18+ (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# One rule per vendor file: copied again when npm ci has run since (no -p: the copy's time is now).
define vendor_file
$(VENDOR)/$(notdir $(1)): $(FRONTEND)/node_modules/.package-lock.json
	@mkdir -p $(VENDOR) && cp $(FRONTEND)/node_modules/$(1) $$@
endef
$(foreach f,$(VENDOR_FILES),$(eval $(call vendor_file,$(f))))

# Where the vendor files went before frontend/build: a copy left there is shadowed by build/vendor,
# yet collectstatic would report each file twice.
OLD_VENDOR := labapp/labs/static/vendor

assets: $(addprefix $(VENDOR)/,$(notdir $(VENDOR_FILES)))
	@if [ -d $(OLD_VENDOR) ]; then rm -rf $(OLD_VENDOR) && rmdir --ignore-fail-on-non-empty labapp/labs/static; fi

test: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q; status=$$?; \
	if [ $$status = 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$status

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make run` serves a classroom from one machine, safely by default: DEBUG off (a developer's option:
# `make run DEBUG=1` or DJANGO_DEBUG=1), the secret key made once in var/secret_key, static files
# collected into var/static and served by WhiteNoise, bound to 127.0.0.1 unless HOST says otherwise
# (`make run HOST=0.0.0.0`: the classroom's machines; the allowed host names are then the machine's
# name and addresses, or DJANGO_ALLOWED_HOSTS; no demo users then: their passwords are well known).
# labapp/config/serve.py prints where to log in from.
HOST ?= 127.0.0.1
DEBUG := $(or $(DJANGO_DEBUG),0)
run: export DJANGO_DEBUG = $(DEBUG)

run: setup
	$(BIN)/python manage.py migrate --noinput
	@if [ "$(HOST)" = 127.0.0.1 ] || [ "$(HOST)" = localhost ] || [ "$(HOST)" = ::1 ]; then \
		$(BIN)/python manage.py nslab_demo_users --force && \
		echo "Log in as teacher/teacher (instructor) or student/student. Ctrl-C stops the server."; \
	else \
		echo "run: no demo users (well-known passwords) on a network; create accounts with"; \
		echo "     $(BIN)/python manage.py createsuperuser, then in /admin/. Ctrl-C stops the server."; \
	fi
	$(BIN)/python manage.py exercises load
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo
	exec $(BIN)/python -m labapp.config.serve --host $(HOST) --port $(RUN_PORT)

bench: setup
	$(BIN)/python -m bench
