# The README's two commands: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ASSIGNMENT := neural-networks
BUILT := dist/$(ASSIGNMENT)
BUNDLE := $(BUILT)/autograder/$(ASSIGNMENT)-autograder.zip

.PHONY: demo test validate bench

# The environment: exact pins from pyproject.toml, reinstalled when it changes.
$(BIN)/instructor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

demo: $(BIN)/instructor
	$(BIN)/instructor build assignments/$(ASSIGNMENT)
	$(BIN)/instructor grade $(BUILT)/autograder/$(ASSIGNMENT).ipynb --bundle $(BUNDLE) -o $(BUILT)/results/reference.json
	$(BIN)/instructor grade $(BUILT)/student/$(ASSIGNMENT).ipynb --bundle $(BUNDLE) -o $(BUILT)/results/blank.json

test: $(BIN)/instructor
	$(BIN)/pytest

validate: $(BIN)/instructor
	$(BIN)/instructor build assignments/$(ASSIGNMENT)
	$(BIN)/instructor validate assignments/$(ASSIGNMENT)

bench: $(BIN)/instructor
	$(BIN)/python benchmarks/grading_cost.py
