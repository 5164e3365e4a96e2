# The README's first two commands: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo flask-demo django-demo test lint codegen bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/python examples/quickstart.py

flask-demo: setup
	$(BIN)/python examples/flask_app/run.py

django-demo: setup
	$(BIN)/python examples/django_app/run.py

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check lumi codegen tests benchmarks examples
	$(BIN)/ruff format --check lumi codegen
	$(BIN)/mypy --strict lumi codegen

codegen: setup
	$(BIN)/python -m codegen

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .cache build *.egg-info
