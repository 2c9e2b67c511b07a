# The two quick-start commands (README): `make demo` and `make test`. Both set up first.
.PHONY: setup demo test lint bench eval

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/forage ask "Where is the retry delay configured?" examples/acme-client

test: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m pytest -q -p no:cacheprovider

lint: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: setup
	.venv/bin/python -m evals.perf $(if $(REPO),--repo $(REPO),)

eval: setup
	.venv/bin/forage eval run all --quick --out runs/quick
