#!/usr/bin/env bash
# The whole pipeline at ShareGPT scale: a generated raw-HTML dump (about
# 90,000 conversations and 1 GB, with the real markup, languages, code,
# tables and lengths of the samples, 4% exact re-shares and 3% near-
# duplicates) through clean --keep-lang en, near-duplicate dedup and split
# at 2048 tokens, stage by stage through files and as one pipe, at 1/4, 1/2
# and the full size. Prints a table: input MB, records, wall and CPU
# seconds, records/s, MB/s per core and peak RSS (the whole process tree).
#   SIZE=1GB FRACTIONS="0.25 0.5 1" scripts/bench-chain.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-1GB}
FRACTIONS=${FRACTIONS:-0.25 0.5 1}
DIR=${BENCH_DIR:-.bench}
BIN=${BIN:-bin/sharegpt}
CLEAN_FLAGS=${CLEAN_FLAGS:---keep-lang en --languages common}
GEN_FLAGS=(-html -mosaic -noise 0.1 -dup 0.04 -near 0.03 -seed 1
  -from testdata/sharegpt/sharegpt_v3_sample_1000.json:0.85,testdata/multilingual/sharegpt_zh_1k.jsonl:0.1,testdata/sharegpt/vicuna_long_multilingual_sample.json:0.05)
mkdir -p "$DIR"
[ -x "$BIN" ] || CGO_ENABLED=0 go build -trimpath -o "$BIN" ./cmd/sharegpt
results="$DIR/chain-results.jsonl"
: >"$results"

full="$DIR/raw-$SIZE.json"
if [ ! -f "$full" ] || [ ! -f "$full.count" ]; then
  echo "== generating $full" >&2
  go run ./tools/gencorpus "${GEN_FLAGS[@]}" -size "$SIZE" -stats -o "$full" 2>"$DIR/gen.txt"
  sed -E 's/^records ([0-9]+):.*/\1/' "$DIR/gen.txt" >"$full.count"
fi
total=$(cat "$full.count")

# run LABEL STAGE INPUT REPORT CMD: one measured command, appended to results.
run() {
  local label=$1 stage=$2 input=$3 report=$4 cmd=$5
  python3 scripts/peakrss.py "$DIR/m.json" -- "$cmd" || { echo "failed: $cmd" >&2; exit 1; }
  python3 - "$label" "$stage" "$input" "$report" "$DIR/m.json" >>"$results" <<'PY'
import json, os, sys
label, stage, path, report, m = sys.argv[1:6]
m = json.load(open(m))
m.update(size=label, stage=stage, mb=os.path.getsize(path) / 1e6,
         records=json.load(open(report))["records_in"])
print(json.dumps(m))
PY
}

for f in $FRACTIONS; do
  n=$(python3 -c "print(round($total * $f))")
  raw=$full
  if [ "$f" != 1 ]; then
    raw="$DIR/raw-$SIZE-$f.json"
    [ -f "$raw" ] || go run ./tools/gencorpus "${GEN_FLAGS[@]}" -n "$n" -o "$raw"
  fi
  echo "== $raw: $n conversations" >&2
  run "$f" clean "$raw" "$DIR/r1.json" "$BIN clean -q $CLEAN_FLAGS -i $raw -o $DIR/clean.jsonl --report $DIR/r1.json"
  run "$f" dedup "$DIR/clean.jsonl" "$DIR/r2.json" "$BIN dedup -q -i $DIR/clean.jsonl -o $DIR/dedup.jsonl --report $DIR/r2.json"
  run "$f" split "$DIR/dedup.jsonl" "$DIR/r3.json" "$BIN split -q -i $DIR/dedup.jsonl -o $DIR/split.jsonl --report $DIR/r3.json"
  run "$f" "chain (pipe)" "$raw" "$DIR/r1.json" "$BIN clean -q $CLEAN_FLAGS -i $raw -o - --report $DIR/r1.json | $BIN dedup -q -i - -o - | $BIN split -q -i - -o $DIR/chain.jsonl"
  cmp -s "$DIR/split.jsonl" "$DIR/chain.jsonl" || { echo "pipe and files differ at $f" >&2; exit 1; }
done
rm -f "$DIR"/{clean,dedup,split,chain}.jsonl "$DIR"/r[123].json "$DIR/m.json"

python3 - "$results" "$(nproc)" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cores = int(sys.argv[2])
print(f"{'size':>5} {'stage':<13} {'input MB':>9} {'records':>8} {'wall s':>7} {'cpu s':>7} {'rec/s':>7} {'MB/s/core':>9} {'peak RSS MB':>11}")
for r in rows:
    print(f"{r['size']:>5} {r['stage']:<13} {r['mb']:9.1f} {r['records']:8d} {r['wall']:7.1f} {r['cpu']:7.1f} "
          f"{r['records'] / r['wall']:7.0f} {r['mb'] / r['wall'] / cores:9.2f} {r['peak_rss'] / 2**20:11.0f}")
chain = [r for r in rows if r['stage'].startswith('chain')]
if len(chain) > 1:
    print("growth: " + ", ".join(f"{r['size']}: {r['wall'] / r['mb'] * 1000:.0f} ms/MB" for r in chain))
PY
