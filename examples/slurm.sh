#!/usr/bin/env bash
# A sharded rebuild on a Slurm cluster, keeping exactly the records one
# machine would keep. Every task reads the same inputs and takes its part
# with --shard i/N (a stable hash of the id), so input positions, and the
# dedup decisions keyed by them, are the same everywhere.
#
#   N=16 DUMP=/data/sg_90k.json OUT=/shared/sg examples/slurm.sh
#
# 1. clean        N tasks   clean-000i.jsonl (the records of shard i)
# 2. sign         N tasks   sig-000i.bin     (dedup pass 1 over all clean files, shard i)
# 3. merge        1 task    decisions.jsonl, clusters.jsonl
# 4. filter+split N tasks   train-0000i-of-0000N.jsonl
set -euo pipefail
N=${N:-16}
DUMP=${DUMP:?path of the raw dump}
OUT=${OUT:?shared output directory}
SHAREGPT=${SHAREGPT:-sharegpt}
mkdir -p "$OUT"
array=(--array=0-$((N - 1)) --cpus-per-task=2 --mem=4G --parsable)
task='i=$SLURM_ARRAY_TASK_ID; p=$(printf %05d $i)'
cleaned="$OUT/clean-*.jsonl" # the same list, in the same order, in every task

clean=$(sbatch "${array[@]}" --wrap "$task
  $SHAREGPT clean -q --shard \$i/$N --keep-lang en -i $DUMP -o $OUT/clean-\$p.jsonl \
    --rejects $OUT/clean-\$p.rejects.jsonl --report $OUT/clean-\$p.report.json")

sign=$(sbatch "${array[@]}" --dependency=afterok:$clean --wrap "$task
  $SHAREGPT dedup -q --shard \$i/$N $cleaned --signatures $OUT/sig-\$p.bin")

merge=$(sbatch --parsable --mem=8G --dependency=afterok:$sign --wrap "
  $SHAREGPT dedup -q --merge $OUT/sig-*.bin --decisions $OUT/decisions.jsonl --clusters $OUT/clusters.jsonl")

sbatch "${array[@]}" --dependency=afterok:$merge --wrap "$task
  $SHAREGPT dedup -q --shard \$i/$N $cleaned --decisions $OUT/decisions.jsonl -o - --rejects $OUT/dedup-\$p.rejects.jsonl |
    $SHAREGPT split -q -i - -o $OUT/train-\$p-of-\$(printf %05d $N).jsonl"
