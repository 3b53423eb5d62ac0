# The README's two commands: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ASSIGNMENT := neural-networks
BUILT := dist/$(ASSIGNMENT)
BUNDLE := $(BUILT)/autograder/$(ASSIGNMENT)-autograder.zip

.PHONY: demo test validate bench sandbox-tool

# The environment: exact pins from pyproject.toml, reinstalled when it changes.
$(BIN)/instructor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Local grading runs student code in bubblewrap (Debian's package); as root, install it.
sandbox-tool:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
	  else \
	    echo "Grading needs bubblewrap: install it (sudo apt-get install bubblewrap), then run make again." >&2; exit 1; \
	  fi; }

demo: $(BIN)/instructor sandbox-tool
	$(BIN)/instructor build assignments/$(ASSIGNMENT)
	$(BIN)/instructor grade $(BUILT)/autograder/$(ASSIGNMENT).ipynb --bundle $(BUNDLE) -o $(BUILT)/results/reference.json
	$(BIN)/instructor grade $(BUILT)/student/$(ASSIGNMENT).ipynb --bundle $(BUNDLE) -o $(BUILT)/results/blank.json
	$(BIN)/instructor grade-all assignments/$(ASSIGNMENT)/submissions --bundle $(BUNDLE) -o $(BUILT)/class
	cat $(BUILT)/class/summary.md

test: $(BIN)/instructor sandbox-tool
	$(BIN)/pytest

validate: $(BIN)/instructor sandbox-tool
	$(BIN)/instructor build assignments/$(ASSIGNMENT)
	$(BIN)/instructor validate assignments/$(ASSIGNMENT)

bench: $(BIN)/instructor sandbox-tool
	$(BIN)/python benchmarks/grading_cost.py
