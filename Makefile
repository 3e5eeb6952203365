# The README's two commands. Each creates .venv and installs the pinned dependencies when missing.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: demo test typecheck test-sqlite test-postgres bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

# axe-core for the console's accessibility tests (tests/console_support.py), pinned in tests/js/package-lock.json.
JS_STAMP := tests/js/node_modules/.installed

$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	npm ci --prefix tests/js --no-audit --no-fund --silent
	@touch $(JS_STAMP)

demo: $(STAMP)
	$(VENV)/bin/kiemtra demo

# The type check, then the whole suite on SQLite, then on PostgreSQL (what .ci/run runs).
test: typecheck test-sqlite test-postgres

# mypy over services/, flows/ and models/ (strict on services/rules/ and models/): [tool.mypy] in pyproject.toml.
typecheck: $(STAMP)
	$(VENV)/bin/mypy

# pytest-xdist: one worker per core, each test file whole on one worker (its module fixtures built once);
# TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto
PYTEST := $(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-sqlite: $(STAMP) $(JS_STAMP)
	$(PYTEST)

# The same suite on PostgreSQL: a throwaway server on loopback (.ci/postgres), a fresh database per test.
test-postgres: $(STAMP) $(JS_STAMP)
	bash .ci/postgres run $(PYTEST)

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/campaign.py

clean:
	rm -rf var
