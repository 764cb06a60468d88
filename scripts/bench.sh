#!/usr/bin/env bash
# Benchmarks on realistic data: go test -bench for the parsers and writers,
# then whole-command runs on a generated corpus with wall time, MB/s per
# core and peak RSS. SIZE=1GB scripts/bench.sh for the full-size run.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-1GB}
DIR=${BENCH_DIR:-.bench}
BIN=${BIN:-bin/sharegpt}
mkdir -p "$DIR"
[ -x /usr/bin/time ] || { echo "bench.sh needs GNU time: apt-get install time" >&2; exit 1; }
[ -x "$BIN" ] || CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/sharegpt

if [ -z "${SKIP_GO_BENCH:-}" ]; then
  echo "== go test -bench"
  go test ./pipeline -run XXX -bench . -benchtime 5x | grep -E '^Benchmark'
fi

corpus="$DIR/corpus-$SIZE.json"
if [ ! -f "$corpus" ]; then
  echo "== generating $corpus"
  go run ./tools/gencorpus -size "$SIZE" -o "$corpus"
fi
cores=$(nproc)

# measure NAME CMD...: wall seconds, MB/s per core of the corpus, peak RSS.
measure() {
  local name=$1; shift
  local stats
  /usr/bin/time -o "$DIR/time.txt" -f '%e %M' "$@" >/dev/null 2>"$DIR/stderr.txt" || { cat "$DIR/stderr.txt"; return 1; }
  stats=$(tail -1 "$DIR/time.txt")
  python3 - "$name" "$corpus" "$cores" $stats <<'PY'
import os, sys
name, corpus, cores, wall, rss = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
mb = os.path.getsize(corpus) / 1e6
print(f"{name:<28} {mb:8.0f} MB {wall:7.2f} s {mb/wall:8.1f} MB/s {mb/wall/cores:7.1f} MB/s/core {rss/1024:7.1f} MB peak RSS")
PY
}

echo "== commands on $corpus ($cores cores)"
measure "convert json -> jsonl" "$BIN" convert -q -i "$corpus" -o "$DIR/out.jsonl"
measure "convert jsonl -> json" "$BIN" convert -q -i "$DIR/out.jsonl" -o "$DIR/out.json"
measure "validate" "$BIN" validate -q "$corpus"
measure "stats" "$BIN" stats "$corpus"
rm -f "$DIR/out.jsonl" "$DIR/out.json"
