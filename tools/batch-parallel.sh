#!/bin/sh
# heatlens-cli batch in N shards at once with GNU parallel (xargs -P when
# parallel is not installed), then batch-merge and a gallery (docs/batch.md).
#
#   tools/batch-parallel.sh photos/ out/ 4
#
# One shard per process and thread; each shard goes on with --resume, so
# running the script again after a crash only does what is missing. With
# parallel --sshlogin the same shard commands run on several machines that
# share the file system. HEATLENS_CLI picks the program (default
# heatlens-cli), HEATLENS_METHODS the methods.
set -u
CLI="${HEATLENS_CLI:-heatlens-cli}"
METHODS="${HEATLENS_METHODS:-saliency,layer_grad_cam,integrated_gradients}"

if [ "${1:-}" = --shard-job ]; then   # --shard-job I N IMAGES OUT: one shard
    "$CLI" batch --images "$4" --methods "$METHODS" --shard "$2/$3" --threads 1 \
        --out "$5/shard-$2" --resume > "$5/logs/shard-$2.log" 2>&1
    status=$?
    # 1 = some images failed: their errors are in the manifest, shard done.
    [ $status -eq 1 ] && exit 0
    exit $status
fi

IMAGES="${1:?usage: batch-parallel.sh IMAGES_DIR OUT_DIR [N]}"
OUT="${2:?usage: batch-parallel.sh IMAGES_DIR OUT_DIR [N]}"
N="${3:-2}"
mkdir -p "$OUT/logs"
if command -v parallel > /dev/null 2>&1; then
    seq 0 $((N - 1)) | parallel -q -j "$N" "$0" --shard-job {} "$N" "$IMAGES" "$OUT" || exit 1
else
    seq 0 $((N - 1)) | xargs -P "$N" -I{} "$0" --shard-job {} "$N" "$IMAGES" "$OUT" || exit 1
fi
"$CLI" batch-merge "$OUT"/shard-* --out "$OUT/all" || exit $?
exec "$CLI" gallery "$OUT/all" --out "$OUT/gallery.html"
