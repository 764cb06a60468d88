#!/usr/bin/env bash
# Benchmarks on realistic data: go test -bench for the parsers, writers and
# stages, then whole-command runs on generated corpora with wall time, CPU
# seconds, records/s, MB/s per core and peak RSS.
#   SIZE=1GB scripts/bench.sh     size of the Markdown corpus for convert/validate/stats
#   CLEAN_N=5000                  conversations in the raw-HTML corpus for clean
#   SKIP_GO_BENCH=1               skip go test -bench
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-1GB}
CLEAN_N=${CLEAN_N:-5000}
DIR=${BENCH_DIR:-.bench}
BIN=${BIN:-bin/sharegpt}
mkdir -p "$DIR"
[ -x /usr/bin/time ] || { echo "bench.sh needs GNU time: apt-get install time" >&2; exit 1; }
[ -x "$BIN" ] || CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/sharegpt

if [ -z "${SKIP_GO_BENCH:-}" ]; then
  echo "== go test -bench"
  go test ./pipeline -run XXX -bench . -benchtime 5x | grep -E '^Benchmark'
  go test ./clean -run XXX -bench 'Stage|Markdown$' -benchtime 3x | grep -E '^Benchmark'
  go test ./tokenize -run XXX -bench . -benchtime 3x | grep -E '^Benchmark'
  go test ./internal/columnar -run XXX -bench . -benchtime 3x | grep -E '^Benchmark'
fi
cores=$(nproc)

# measure NAME INPUT REPORT CMD...: wall and CPU seconds, records/s (from
# the command's --report when REPORT is not -), MB/s of INPUT per core,
# peak RSS.
measure() {
  local name=$1 input=$2 report=$3; shift 3
  /usr/bin/time -o "$DIR/time.txt" -f '%e %U %S %M' "$@" >/dev/null 2>"$DIR/stderr.txt" || { cat "$DIR/stderr.txt"; return 1; }
  python3 - "$name" "$input" "$report" "$cores" $(tail -1 "$DIR/time.txt") <<'PY'
import json, os, sys
name, path, report, cores = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
wall, user, sys_, rss = float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
mb = os.path.getsize(path) / 1e6
recs = json.load(open(report))["records_in"] if report != "-" else None
rate = f"{recs / wall:9.0f} rec/s" if recs else " " * 15
print(f"{name:<34} {mb:7.1f} MB {wall:7.2f} s {user + sys_:7.2f} cpu-s {rate} {mb / wall / cores:7.1f} MB/s/core {rss / 1024:7.1f} MB RSS")
PY
}

raw="$DIR/raw-$CLEAN_N.json"
if [ ! -f "$raw" ]; then
  echo "== generating $raw"
  go run ./tools/gencorpus -html -mosaic -n "$CLEAN_N" -noise 0.1 -o "$raw"
fi
echo "== clean on $raw: $CLEAN_N raw share-page conversations ($cores cores)"
rep="$DIR/report.json"
measure "clean" "$raw" "$rep" "$BIN" clean -q -i "$raw" -o "$DIR/clean.jsonl" --report "$rep"
measure "clean --keep-lang en (75 langs)" "$raw" "$rep" "$BIN" clean -q -i "$raw" -o "$DIR/clean.jsonl" --report "$rep" --keep-lang en
measure "clean --keep-lang en (24 langs)" "$raw" "$rep" "$BIN" clean -q -i "$raw" -o "$DIR/clean.jsonl" --report "$rep" --keep-lang en --languages common
rm -f "$DIR/clean.jsonl"

corpus="$DIR/corpus-$SIZE.json"
if [ ! -f "$corpus" ]; then
  echo "== generating $corpus"
  go run ./tools/gencorpus -size "$SIZE" -o "$corpus"
fi
echo "== commands on $corpus ($cores cores)"
measure "convert json -> jsonl" "$corpus" "$rep" "$BIN" convert -q -i "$corpus" -o "$DIR/out.jsonl" --report "$rep"
measure "convert jsonl -> json" "$DIR/out.jsonl" "$rep" "$BIN" convert -q -i "$DIR/out.jsonl" -o "$DIR/out.json" --report "$rep"
measure "validate" "$corpus" - "$BIN" validate -q "$corpus"
measure "stats" "$corpus" - "$BIN" stats "$corpus"
rm -f "$DIR/out.jsonl" "$DIR/out.json" "$rep"
