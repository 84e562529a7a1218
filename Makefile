# Set-up and everyday commands. Each target creates .venv on first use
# (python3 -m venv + pip install -e .[test]) and reuses it afterwards.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.skface-installed

.PHONY: demo test docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m skface demo --output demo-output

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
