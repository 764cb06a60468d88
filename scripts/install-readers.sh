#!/usr/bin/env bash
# Installs the independent readers the columnar tests use (DuckDB for
# Parquet, apache-arrow for Arrow IPC) into scripts/readers/node_modules,
# exactly as package-lock.json pins them. Idempotent: does nothing when
# they are installed from the same lock file. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/readers"
stamp=node_modules/.sharegpt-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]] && node -e "require.resolve('@duckdb/node-api'); require.resolve('apache-arrow')" 2>/dev/null; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
