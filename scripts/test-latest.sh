#!/usr/bin/env bash
# The drift check: install the newest versions pyproject.toml's ranges allow into a scratch
# virtual environment (.venv-latest, made anew each run), print which of them moved from
# requirements.lock, and run the test suite there. Run it before `make lock`: a failure here is
# what a refresh of the lock, or a user installing forage into their own environment, would hit.
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-.venv/bin/uv}
[ -x "$UV" ] || { echo "test-latest: $UV not found; run 'make setup' first (the lock pins uv too)" >&2; exit 1; }
SCRATCH=.venv-latest
NEWEST=$(mktemp)
trap 'rm -f "$NEWEST"' EXIT

"$UV" pip compile pyproject.toml scripts/lock/inputs.in --extra dev \
    --override scripts/lock/overrides.txt \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --upgrade --no-header --quiet -o "$NEWEST"
echo "== newest allowed versions against requirements.lock"
python3 scripts/lock/diff.py requirements.lock "$NEWEST"

rm -rf "$SCRATCH"
"$UV" venv --quiet --python "$(command -v "${PYTHON:-python3}")" "$SCRATCH"
"$UV" pip sync --quiet --python "$SCRATCH/bin/python" "$NEWEST"
"$UV" pip install --quiet --python "$SCRATCH/bin/python" --no-deps --no-build-isolation -e .

echo "== tests on the newest versions ($SCRATCH)"
status=0
"$SCRATCH/bin/python" -m pytest -q -p no:cacheprovider -rf "$@" || status=$?
if [ "$status" -eq 0 ]; then
    echo "test-latest: the suite passes on the newest versions; 'make lock' may take them"
else
    echo "test-latest: the suite FAILS on the newest versions (failures above); pin or fix before 'make lock'"
fi
exit "$status"
