# One command builds the book, one runs the tests; both make the virtual
# environment first when it is missing or older than the requirements.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Chapters for `make refresh`, `stamp` and `normalise`; all of them by default.
NB     ?= notebooks/*.ipynb
# NB as given on the command line, for `make test NB=...` (empty otherwise).
TEST_NB := $(if $(filter command line,$(origin NB)),$(wildcard $(NB)))
space  := $(subst ,, )
PORT   ?= 8000

.PHONY: book test refresh stamp normalise format serve lock clean help bench fixtures catalogs
.DEFAULT_GOAL := help

help:
	@echo "make book     build the site from the stored outputs: English in _build/html,"
	@echo "              Chinese in _build/html/zh_CN"
	@echo "make catalogs bring locale/zh_CN/LC_MESSAGES/*.po up to date with the English prose"
	@echo "make test     run every chapter under nbval and the unit tests"
	@echo "make refresh  re-execute chapters and store their outputs (NB=notebooks/03-*.ipynb for one)"
	@echo "make stamp    copy each shared cell (tools/cells/*.py) into the chapters tagged with it"
	@echo "make normalise  write chapters in the canonical format: cell ids, metadata (NB= for one)"
	@echo "make format   format and lint the chapters' code cells and the Python files with ruff"
	@echo "make serve    serve both editions on http://127.0.0.1:$(PORT)/ (Chinese under zh_CN/)"
	@echo "make lock     re-pin constraints.txt from the environment"
	@echo "make clean    remove _build, artifacts and test-output (keeps .venv)"
	@echo "make fixtures rebuild fixtures/ with TF 1.15.5 and Keras 2.2.5 (Python 3.7), TF 2.7 (3.9),"
	@echo "              TF 2.10 (3.10) and TF 2.15/Keras 2 (3.11)"
	@echo "make bench    time saving and restoring against np.save, 1 MB to 1 GB (~10 min; test-output/bench;"
	@echo "              BENCH_ARGS=\"--quick\" or \"--max-mb 256\" for a shorter run)"

$(INSTALLED): requirements.txt requirements-nodeps.txt constraints.txt
	@$(PYTHON) tools/supported_python.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $@

# Renders the stored outputs only (execute_notebooks is off in _config.yml), in
# both languages at once (tools/i18n.py: one Sphinx run per core); -W turns every
# Sphinx warning into an error. Sphinx keeps its environment in _build, so a
# rebuild after one chapter changed re-reads only that chapter.
# Sphinx copies _static/ and _extra/ only when some page is out of date, so a change to the
# style sheets alone would never reach the site: rebuild everything then.
book: $(INSTALLED)
	@if [ -f _build/html/index.html ] && [ -n "$$(find _static _extra _templates _ext locale/zh_CN/overrides.yml -newer _build/html/index.html)" ]; then \
	    echo "_static/ or the templates changed: full rebuild"; rm -rf _build; fi
	$(BIN)/python tools/i18n.py build

# After a change to the English prose: new and changed messages arrive in the
# catalogs untranslated (or fuzzy), and the tests fail until they are translated.
catalogs: $(INSTALLED)
	$(BIN)/python tools/i18n.py extract

# `make test NB=notebooks/15-resume-exactly.ipynb`: that chapter under nbval and
# the tests that name it (parametrized by its name, or a module whose NOTEBOOK
# is the chapter; see conftest.py). Without NB, everything.
test: $(INSTALLED)
	$(BIN)/python -m pytest $(if $(TEST_NB),$(TEST_NB) tests -k "$(subst $(space),$(space)or$(space),$(basename $(notdir $(TEST_NB))))")

# Stamping first: a chapter is re-executed with the current shared cells.
# tools/nbtool.py refuses to stamp over a copy edited by hand.
refresh: $(INSTALLED)
	$(BIN)/python -m tools.nbtool stamp $(NB)
	$(BIN)/python -m tools.refresh $(NB)

stamp: $(INSTALLED)
	$(BIN)/python -m tools.nbtool stamp $(NB)

# Cell ids <chapter>-NN in cell order, the book's metadata only (tests/
# test_notebooks.py runs `python -m tools.nbtool check` on every chapter).
normalise: $(INSTALLED)
	$(BIN)/python -m tools.nbtool normalise $(NB)

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

serve:
	@test -f _build/html/index.html || { echo "no site yet: run 'make book' first"; exit 1; }
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

lock: $(INSTALLED)
	( echo "# Every package the environment holds, pinned; made by \`make lock\`, do not edit by hand."; \
	  $(BIN)/python -m pip freeze --exclude pip ) > constraints.txt

clean:
	rm -rf _build artifacts test-output

# Not part of `make test`: a timing run of several minutes whose numbers depend on
# the machine. Ratios outside the bounds in benchmarks/persistence/checks.py make
# it exit non-zero. `make bench BENCH_ARGS="--quick"` for a run of a few minutes.
BENCH_ARGS ?=
bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.persistence $(BENCH_ARGS)

# Not part of `make test`: rewrites the committed files of old TensorFlow
# versions in fixtures/, from throw-away virtual environments under
# artifacts/fixture-venvs/ (FRESH=1 reinstalls them). Needs Python 3.7, 3.9,
# 3.10 and 3.11 (pyenv) and the package index; the tests only read what is committed.
fixtures:
	$(PYTHON) tools/fixtures/build.py $(if $(FRESH),--fresh)
