# Two commands matter: `make demo` and `make test`. Both run `make setup` first.
# serve, worker and demo run in development unless ENVIRONMENT says otherwise (the default is production).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CLIPFLOW := $(VENV)/bin/clipflow
# Starts embedded PostgreSQL/Redis when DATABASE_URL/REDIS_URL are unset and nothing answers.
WITH_SERVICES := $(CLIPFLOW) services run --

.PHONY: setup test test-whisperx demo serve worker schema bench clean

setup: $(VENV)/.installed
	$(WITH_SERVICES) $(CLIPFLOW) db upgrade

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip setuptools wheel
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

test: setup
	$(WITH_SERVICES) $(PY) -m pytest -q

# The heavy optional ASR engine (about 7.6 GB with torch); CI never runs this.
test-whisperx: setup
	$(VENV)/bin/pip install -q -e '.[test,whisperx]'
	$(WITH_SERVICES) $(PY) -m pytest -q -m whisperx -o addopts=""

demo: setup
	ENVIRONMENT=$${ENVIRONMENT:-development} $(WITH_SERVICES) $(CLIPFLOW) demo

serve: setup
	ENVIRONMENT=$${ENVIRONMENT:-development} $(WITH_SERVICES) $(CLIPFLOW) serve

worker: setup
	ENVIRONMENT=$${ENVIRONMENT:-development} $(WITH_SERVICES) $(CLIPFLOW) worker

schema: $(VENV)/.installed
	$(CLIPFLOW) export-schema > schema.graphql

bench: setup
	$(PY) bench/pipeline.py
	$(WITH_SERVICES) $(PY) bench/graphql.py

clean:
	rm -rf $(VENV) .clipflow
