#!/bin/bash
# heatlens-cli batch on a Slurm cluster: one array task per shard, then one
# job that merges the shards and draws the gallery (docs/batch.md).
#
#   jid=$(sbatch --parsable --array=0-7 tools/batch-slurm.sh photos/ out/)
#   sbatch --dependency=afterany:$jid tools/batch-slurm.sh merge out/
#
# Task I of N runs `batch --shard I/N` into OUT/shard-I with --resume, so a
# requeued task (or the same command run again) only does what is missing.
# At the time limit Slurm sends SIGTERM: batch finishes its current image,
# leaves a consistent manifest and exits 130. Without Slurm the script runs
# as shard 0/1. HEATLENS_CLI picks the program (default heatlens-cli),
# HEATLENS_METHODS the methods.
#SBATCH --job-name=heatlens-batch
#SBATCH --cpus-per-task=4
#SBATCH --mem=2G
#SBATCH --time=02:00:00
#SBATCH --output=heatlens-batch-%A_%a.log
set -u
CLI="${HEATLENS_CLI:-heatlens-cli}"
METHODS="${HEATLENS_METHODS:-saliency,layer_grad_cam,integrated_gradients}"

if [ "${1:-}" = merge ]; then
    OUT="${2:?usage: batch-slurm.sh merge OUT_DIR}"
    "$CLI" batch-merge "$OUT"/shard-* --out "$OUT/all" || exit $?
    exec "$CLI" gallery "$OUT/all" --out "$OUT/gallery.html"
fi

IMAGES="${1:?usage: sbatch --array=0-N batch-slurm.sh IMAGES_DIR OUT_DIR}"
OUT="${2:?usage: sbatch --array=0-N batch-slurm.sh IMAGES_DIR OUT_DIR}"
I="${SLURM_ARRAY_TASK_ID:-0}"
N="${SLURM_ARRAY_TASK_COUNT:-1}"
"$CLI" batch --images "$IMAGES" --methods "$METHODS" --shard "$I/$N" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" --out "$OUT/shard-$I" --resume
status=$?
# 1 = some images failed: their errors are in the manifest, the task is done.
[ $status -eq 1 ] && exit 0
exit $status
