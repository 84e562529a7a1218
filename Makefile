# Set-up and everyday commands. Each target creates .venv on first use
# (python3 -m venv + pip install -e .[test]) and reuses it afterwards.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.skface-installed

.PHONY: demo test test-all docs bench bench-peers bench-cache-photos bench-fairness bench-fairness-real bench-inferred-groups bench-fairness-criteria bench-default-real bench-fair-defaults bench-group-training bench-group-cost bench-synthetic-task lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m skface demo --output demo-output

# Two pytest workers (the CI machine's two cores), one test file each at a
# time so that a file's shared fitted models are trained once. `make test`
# (CI's) leaves out the tests marked slow: the end-to-end runs in fresh
# processes (MirroredStrategy, a dask cluster, killed and resumed fits),
# resumes from checkpoints and the benchmarks' smoke runs, a third of the
# suite's CPU time; on a 2-core float32 CPU the whole suite took 10 minutes,
# make test just under 7. `make test-all` runs every
# test; run it before a release and after touching distribution,
# checkpoints, logging or benchmarks/. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow"

test-all: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# Builds the documentation offline into docs/_build/html, re-reading every
# page (-E); warnings and unresolved cross-references (-n) are errors; then
# every link within the site is checked. The gallery re-runs only examples
# that changed. SKFACE_DOCS_FAST=1 runs the examples on tiny data (CI).
docs: $(STAMP)
	$(PY) -m pip install --quiet -e '.[docs]'
	$(PY) -m sphinx -E -W --keep-going -n -b html docs docs/_build/html
	$(PY) docs/check_links.py docs/_build/html

# Speed and memory against raw Keras, scikeras and the reference's pipeline;
# writes benchmarks/results/benchmarks.json and docs/benchmarks.md (10-15 minutes on 2 cores).
bench: $(STAMP)
	$(PY) -m benchmarks.run

# The same network in Keras 3 on TensorFlow and on JAX (installed here for the run), float32 and
# mixed_bfloat16; writes benchmarks/results/peers.json and docs/peers.md (a few minutes).
bench-peers: $(STAMP)
	$(PY) -m pip install --quiet "jax[cpu]"
	$(PY) -m benchmarks.peers

# What decoding image files once per fit (cache_images) saves on UTKFace photographs (a few minutes):
#   make bench-cache-photos UTKFACE=DIR
bench-cache-photos: $(STAMP)
	$(PY) -m benchmarks.cache_photos --utkface "$(UTKFACE)"

# Fairness mitigations and group-aware training against ERM on make_faces(10,000, 64 px), 3 seeds;
# writes docs/fairness_benchmark.md and .json and docs/_static/fairness_benchmark.png
# (roughly 20-45 minutes on 2 quiet cores for the mitigations, about an hour more for the
# group-aware arms; longer on a busy machine). The CI smoke run writes elsewhere:
#   $(PY) -m benchmarks.fairness --quick --out /tmp/fairness-quick
bench-fairness: $(STAMP)
	$(PY) -m benchmarks.fairness

# The benchmarks measured on real photographs read a UTKFace folder (never committed:
# non-commercial research license): UTKFACE=/path/to/UTKFace make bench-...
UTKFACE ?= ../shared/data/utkface

# The fairness benchmark's mitigation arms on UTKFace adults (class: age >= 40), 3 seeds at 64 px,
# with a gender x race audit: writes benchmarks/results/real_faces.json, docs/real_faces.md and
# docs/_static/real_faces.png
# (21 minutes on 2 cores on 2026-12-02). The group-aware arms (50 more minutes) are merged in with
#   $(PY) -m benchmarks.fairness --utkface $(UTKFACE) --group-aware --merge benchmarks/results/real_faces.json
bench-fairness-real: $(STAMP)
	$(PY) -m benchmarks.fairness --utkface $(UTKFACE) --mitigations-only

# FairThresholdClassifier under each criterion (objectives, constraints) on make_faces and UTKFace,
# 3 seeds: writes benchmarks/results/fairness_criteria.json, docs/fairness_criteria.md and
# docs/_static/fairness_criteria.png
# (6 minutes on 2 cores with bfloat16 on 2026-12-02)
bench-fairness-criteria: $(STAMP)
	$(PY) -m benchmarks.fairness_criteria --utkface $(UTKFACE)

# Per-gender thresholds with true and inferred genders, on make_faces and UTKFace, 3 seeds at 32 px:
# writes benchmarks/results/inferred_groups.json and docs/inferred_groups.md (about 6 minutes on 2 cores)
bench-inferred-groups: $(STAMP)
	$(PY) -m benchmarks.inferred_groups --utkface $(UTKFACE)

# The default network on UTKFace adults at 64 and 80 px, 3 seeds: benchmarks/results/default_learns_real.json
# and docs/default_learns_real.md (about 15 minutes on 2 cores)
bench-default-real: $(STAMP)
	$(PY) -m benchmarks.default_learns_real --utkface $(UTKFACE)

# In-training fairness at candidate defaults and Deep Feature Reweighting against ERM, 3 seeds at
# 64 px, on 6,000 synthetic training faces tested on 20,000 others, then on UTKFace (8,000 training
# faces, the other 7,620 tested): benchmarks/results/fair_defaults.json and docs/fair_defaults.md
# (about 5 minutes a network on 2 cores: 30 networks, 2.5 hours)
bench-fair-defaults: $(STAMP)
	$(PY) -m benchmarks.fair_defaults
	$(PY) -m benchmarks.fair_defaults --utkface $(UTKFACE) --arms erm,group_dro,dfr

# group-aware training's cost per epoch against ERM, arms interleaved:
# writes docs/group_training_cost.md and .json (about 10 minutes on 2 cores)
bench-group-cost: $(STAMP)
	$(PY) -m benchmarks.group_training_cost

# How learnable make_faces is for the default network at 32, 64 and 80 px, 3 seeds:
# writes benchmarks/results/synthetic_task.json and docs/synthetic_task.md (about
# 25 minutes on 2 cores)
bench-synthetic-task: $(STAMP)
	$(PY) -m benchmarks.synthetic_task

# Only the group-aware training arms (ERM, Group DRO and the gap penalty, plain and with
# balanced sampling, 14 networks a seed) on the same data and splits, merged into the
# existing benchmarks/results/fairness_benchmark.json; re-renders the page and the figure (about an hour
# on 2 cores). A full bench-fairness run includes them.
bench-group-training: $(STAMP)
	$(PY) -m benchmarks.fairness --group-aware --merge benchmarks/results/fairness_benchmark.json

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

lint: $(STAMP)
	$(PY) -m ruff check .
