# The README's two commands: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STUDENT_VENV := .venv-student
ASSIGNMENT := neural-networks
BUILT := dist/$(ASSIGNMENT)
BUNDLE := $(BUILT)/autograder/$(ASSIGNMENT)-autograder.zip

.PHONY: demo test validate bench sandbox-tool pdf-tools platforms

# The environment: exact pins from pyproject.toml, reinstalled when it changes.
$(BIN)/instructor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,neural-networks]'
	touch $@

# A student's laptop for tests/test_browser.py: the grading pins and Jupyter (pyproject's
# student-jupyter extra), apart from the grading environment.
$(STUDENT_VENV)/bin/jupyter-lab: pyproject.toml
	$(PYTHON) -m venv $(STUDENT_VENV)
	$(STUDENT_VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[student-jupyter]'
	touch $@

# Local grading runs student code in bubblewrap (Debian's package); as root, install it.
sandbox-tool:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
	  else \
	    echo "Grading needs bubblewrap: install it (sudo apt-get install bubblewrap), then run make again." >&2; exit 1; \
	  fi; }

# The export's PDF of hand-graded questions is printed by Chromium, and the tests read it
# with poppler's pdftotext/pdfimages: Debian's packages, installed as root. The same Chromium
# runs JupyterLab and Notebook 7 in tests/test_browser.py (through Playwright).
pdf-tools:
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq chromium poppler-utils >/dev/null; \
	  else \
	    echo "The PDF export and its tests need Chromium and poppler-utils: install them (sudo apt-get install chromium poppler-utils), then run make again." >&2; exit 1; \
	  fi; }

demo: $(BIN)/instructor sandbox-tool
	$(BIN)/instructor build assignments/$(ASSIGNMENT)
	$(BIN)/instructor grade $(BUILT)/autograder/$(ASSIGNMENT).ipynb --bundle $(BUNDLE) -o $(BUILT)/results/reference.json
	$(BIN)/instructor grade $(BUILT)/student/$(ASSIGNMENT).ipynb --bundle $(BUNDLE) -o $(BUILT)/results/blank.json
	$(BIN)/instructor validate assignments/$(ASSIGNMENT) --write-fixtures
	$(BIN)/instructor grade-all $(BUILT)/fixtures --bundle $(BUNDLE) -o $(BUILT)/class
	cat $(BUILT)/class/summary.md

test: $(BIN)/instructor $(STUDENT_VENV)/bin/jupyter-lab sandbox-tool pdf-tools
	$(BIN)/pytest

validate: $(BIN)/instructor sandbox-tool
	$(BIN)/instructor build assignments/$(ASSIGNMENT)
	$(BIN)/instructor validate assignments/$(ASSIGNMENT)

bench: $(BIN)/instructor sandbox-tool
	$(BIN)/python benchmarks/grading_cost.py

# Does the students' requirements.txt resolve on every platform and Python? pip's dry run,
# by hand: it downloads each platform's wheels (several GB in all).
platforms: $(BIN)/instructor
	$(BIN)/python tools/platforms.py
