#!/usr/bin/env bash
# Runs every test of the workspace (README's test command). Ends with "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh || exit 1
if [ ! -d node_modules ] || [ pnpm-lock.yaml -nt node_modules/.pnpm/lock.yaml ]; then
  pnpm install --frozen-lockfile >&2 || exit 1
fi
bash scripts/ensure-services.sh || exit 1
# CLI and app tests spawn the built `fsm` binary.
pnpm exec turbo run build --output-logs=errors-only >&2 || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
mkdir -p .tmp && rm -f .tmp/vitest.json
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@"
node scripts/summarize-tests.mjs .tmp/vitest.json
