# Two commands: `make run` and `make test`. Both set everything up first and are idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := run

VENV := .venv
STAMP := $(VENV)/.sanad-installed
# pyenv reads .python-version; elsewhere python3.12 must be on PATH.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
ARCHIVE ?= sanad-archive
PORT ?= 8501

# Debian packages Sanad runs on: Tesseract with Persian and Arabic-script models, poppler,
# Persian fonts (demo scans and test pages), and Chromium for the browser tests.
APT_PACKAGES := tesseract-ocr tesseract-ocr-fas tesseract-ocr-eng tesseract-ocr-script-arab \
	poppler-utils fonts-farsiweb fonts-noto-core fonts-dejavu-core chromium

.PHONY: run test setup system-packages demo clean-demo

run: setup
	$(VENV)/bin/python -m ui.demo --archive "$(ARCHIVE)"
	$(VENV)/bin/sanad --archive "$(ARCHIVE)" ui --port $(PORT)

# One test file per core at a time: much of the suite waits on Tesseract, Chromium or a cluster,
# and a file's module-scoped servers stay in one worker.
test: setup
	$(VENV)/bin/python -m pytest -n auto --dist loadfile

setup: system-packages $(STAMP)

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "Sanad needs these Debian packages:$$missing"; \
			echo "Install them with: sudo apt-get install$$missing"; exit 1; \
		fi; \
	fi

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { \
		echo "Sanad needs Python 3.12 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
		echo "Install 3.12 (for example with pyenv) or run: make PYTHON=/path/to/python3.12"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/python -m ui.demo --archive "$(ARCHIVE)"

clean-demo:
	rm -rf "$(ARCHIVE)" build/demo
