# The README's first two commands: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The oldest Python we support, when this machine has one (on PATH or from pyenv).
PY310 := $(shell python3.10 -c 'import sys; print(sys.executable)' 2>/dev/null || \
	(command -v pyenv >/dev/null && ls -d "$$(pyenv root)"/versions/3.10*/bin/python 2>/dev/null | tail -n 1))

.PHONY: setup demo flask-demo django-demo test test-py310 lint codegen docs bench clean

# An editable install of this checkout into the venv whose python is $(1). setuptools maps codegen/
# and schema/ into the package (lumi._codegen, lumi._schema) through an import hook, which mypy and
# pyright cannot follow; a plain path entry for the checkout (lumi-sdk-checkout.pth) lets them
# find lumi/ too. The distribution was called `lumi` before it was published (an unrelated PyPI
# project has that name): an old install of it is removed first.
editable_install = $(1) -m pip install --quiet --upgrade pip \
	&& { $(1) -m pip uninstall --quiet --yes lumi 2>/dev/null || true; } \
	&& $(1) -m pip install --quiet -e '.[dev]' \
	&& $(1) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_path("purelib"), \
	"lumi-sdk-checkout.pth").write_text(str(pathlib.Path.cwd()) + "\n")'

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call editable_install,$(BIN)/python)
	touch $(STAMP)

demo: setup
	$(BIN)/python examples/quickstart.py

flask-demo: setup
	$(BIN)/python examples/flask_app/run.py

django-demo: setup
	$(BIN)/python examples/django_app/run.py

test: setup
	$(BIN)/python -m pytest

# The whole suite again on Python 3.10 (in .venv310), so that "3.10+" stays true.
test-py310:
	@if [ -z "$(PY310)" ]; then echo "test-py310: no Python 3.10 on this machine; not run"; else \
	  set -e; test -x .venv310/bin/python || "$(PY310)" -m venv .venv310; \
	  $(call editable_install,.venv310/bin/python); \
	  .venv310/bin/python -m pytest; fi

lint: setup
	$(BIN)/ruff check lumi codegen tests benchmarks examples
	$(BIN)/ruff format --check lumi codegen
	$(BIN)/mypy --strict lumi codegen

codegen: setup
	$(BIN)/python -m codegen

# The API reference, from the docstrings of every public module (build/api/index.html); a warning
# fails it. The protocol facts the code relies on are in docs/protocol.md.
docs: setup
	$(BIN)/python docs/build_api.py build/api

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .venv310 .cache build *.egg-info
