# attnfd-mm: `make test`, `make test-fast` and `make demo` set everything up on
# first use. `make test` runs the whole suite (as CI does); `make test-fast`
# leaves out the tests marked `slow` (see pytest.ini).
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?= -q --durations=25
# test files spread over this many processes (pytest-xdist; 0 runs them in
# this process)
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: install test test-fast demo clean-venv

install:
	@bash tools/install_env.sh

test: install
	$(PYTHON) -m pytest tests $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-fast: install
	$(PYTHON) -m pytest tests -m "not slow" $(PYTEST_PARALLEL) $(PYTEST_ARGS)

demo: install
	$(PYTHON) tools/demo.py

clean-venv:
	rm -rf $(VENV)
