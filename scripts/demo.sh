#!/usr/bin/env bash
# The README's main job: apps/etl-demo's config over 1000 sample orders (CSV) — validate, price in a
# sub-network, route, load into a SQLite warehouse — as a durable batch with every execution's history in
# an embedded SQLite file; then reads the history back. Everything lands in .demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
if [ ! -d node_modules ] || [ pnpm-lock.yaml -nt node_modules/.pnpm/lock.yaml ]; then
  pnpm install --frozen-lockfile >&2
fi
pnpm exec turbo run build --filter=@fsm/cli --output-logs=errors-only >&2
rm -rf .demo && mkdir -p .demo
fsm() { node packages/cli/dist/bin.js "$@"; }

echo "== fsm run apps/etl-demo/etl.yaml (1000 orders, history in sqlite:.demo/fsm.db)"
status=0
fsm run apps/etl-demo/etl.yaml --input apps/etl-demo/data/orders.csv --output .demo/results.jsonl \
  --storage sqlite:.demo/fsm.db --batch-id demo --concurrency 8 || status=$?
# Exit 1 means some records failed validation, which the sample data does on purpose; 2 is a real error.
if [ "$status" -gt 1 ]; then exit "$status"; fi

echo
echo "== first results (.demo/results.jsonl)"
head -n 3 .demo/results.jsonl
echo
echo "== failed executions (fsm history list --status failed)"
fsm history list --storage sqlite:.demo/fsm.db --status failed
echo
echo "== one execution, step by step, with the pricing sub-network nested (fsm history show demo:0)"
fsm history show demo:0 --storage sqlite:.demo/fsm.db
echo
echo "== warehouse (.demo/warehouse.db): orders by channel"
node -e '
  const Database = require("./apps/etl-demo/node_modules/better-sqlite3");
  const db = new Database(".demo/warehouse.db", { readonly: true });
  for (const r of db.prepare("select channel, count(*) as orders, round(sum(total), 2) as total from orders group by channel order by channel").all())
    console.log(`  ${r.channel.padEnd(9)} ${String(r.orders).padStart(4)} orders  ${r.total.toFixed(2).padStart(12)}`);
  db.close();
'
echo
echo "Re-run after a crash with: node packages/cli/dist/bin.js run apps/etl-demo/etl.yaml --input apps/etl-demo/data/orders.csv --storage sqlite:.demo/fsm.db --resume demo"
