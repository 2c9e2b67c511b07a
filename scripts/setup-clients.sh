#!/usr/bin/env bash
# Install the real MCP clients the tests drive (clients/package-lock.json pins them: gemini-cli, Claude Code)
# into clients/node_modules. Safe to run again: skipped while the lock is unchanged. Without npm
# the step is skipped with a message, and the tests that need a client skip with the reason.
set -euo pipefail
cd "$(dirname "$0")/../clients"

if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm not found, so the real-client tests (gemini-cli) will skip; install Node.js 20+ to run them" >&2
    exit 0
fi
STAMP=node_modules/.forage-stamp
WANT="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
    exit 0
fi
echo "setup: installing the pinned MCP clients into clients/node_modules (npm ci)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$WANT" > "$STAMP"
