# The two quick-start commands (README): `make demo` and `make test`. Both set up first.
.PHONY: setup clients demo test lint bench eval lock test-latest

setup:
	@bash scripts/setup.sh

# The real MCP clients the tests drive (gemini-cli, Claude Code; pinned in clients/package-lock.json).
clients:
	@bash scripts/setup-clients.sh

demo: setup
	.venv/bin/forage ask "Where is the retry delay configured?" examples/acme-client

test: setup clients
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache
	.venv/bin/python -m pytest -q -p no:cacheprovider

lint: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: setup
	.venv/bin/python -m evals.perf $(if $(REPO),--repo $(REPO),)

eval: setup
	.venv/bin/forage eval run all --quick --out runs/quick

# requirements.lock: `make lock` refreshes it to the newest versions pyproject.toml allows and prints
# what moved (`make lock KEEP=1` keeps the pins and resolves only what pyproject.toml changed).
# Run `make test-latest` first: the test suite on those newest versions, in a scratch venv.
lock: setup
	@bash scripts/lock.sh

test-latest: setup clients
	@bash scripts/test-latest.sh
