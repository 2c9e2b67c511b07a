#!/usr/bin/env bash
# Refresh requirements.lock: the newest versions pyproject.toml's ranges allow, with hashes, for
# the machine forage is set up on (CPython 3.11, x86_64 Linux). Prints which versions moved.
#   make lock            every package to the newest allowed version
#   make lock KEEP=1     keep the current pins; resolve only what pyproject.toml added or changed
# Run `make test-latest` first: it tests the versions a refresh would take.
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-.venv/bin/uv}
[ -x "$UV" ] || { echo "lock: $UV not found; run 'make setup' first (the lock pins uv too)" >&2; exit 1; }
LOCK=requirements.lock
NEW=$(mktemp)
trap 'rm -f "$NEW"' EXIT
[ -f "$LOCK" ] && cp "$LOCK" "$NEW"
UPGRADE=(--upgrade)
[ "${KEEP:-0}" = "1" ] && UPGRADE=()

"$UV" pip compile pyproject.toml scripts/lock/inputs.in --extra dev \
    --override scripts/lock/overrides.txt \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --generate-hashes --no-header --quiet ${UPGRADE[@]+"${UPGRADE[@]}"} -o "$NEW"

{
    echo "# The locked install of forage (scripts/setup.sh installs exactly this, with hashes)."
    echo "# Made by 'make lock' (scripts/lock.sh, uv pip compile) from pyproject.toml, its dev extra and"
    echo "# scripts/lock/inputs.in, for CPython 3.11 on x86_64 Linux. Do not edit by hand."
    cat "$NEW"
} > "$NEW.full"
python3 scripts/lock/diff.py "$LOCK" "$NEW.full"
mv "$NEW.full" "$LOCK"
