# attnfd-mm: `make test` and `make demo` set everything up on first use.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?= -q

.PHONY: install test demo clean-venv

install:
	@bash tools/install_env.sh

test: install
	$(PYTHON) -m pytest tests $(PYTEST_ARGS)

demo: install
	$(PYTHON) tools/demo.py

clean-venv:
	rm -rf $(VENV)
