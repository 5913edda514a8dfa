#!/bin/sh
# Speed and memory of heatlens-cli batch on the bundled model (docs/batch.md):
#  1. throughput (images/s, batch's own count: model loaded, files written)
#     for saliency, layer_grad_cam and integrated_gradients at 50 steps,
#     with 1 and 2 threads, over the 9 photos of data/samples; median of RUNS;
#  2. one batch over the 9 photos against one `explain` process per photo
#     (saliency, 1 thread), timed from outside by farm-bench when installed
#     (A/B pairs), otherwise by this script (median of RUNS);
#  3. peak RSS of a batch of 10 and of 1,000 images (the samples repeated in
#     a list file), saliency, 2 threads, GNU time's %M.
# Usage: tools/bench-batch.sh [BUILD_DIR] [RUNS]   (from the source tree)
BUILD="${1:-build}"
RUNS="${2:-3}"
CLI="$BUILD/src/cli/heatlens-cli"
SAMPLES="data/samples"
[ -x "$CLI" ] || { echo "no $CLI (build first)"; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hl-bench-batch.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) processors"
echo "## throughput, images/s (median of $RUNS; 9 photos; .npy written)"
for method in saliency layer_grad_cam "integrated_gradients --n-steps 50"; do
    for threads in 1 2; do
        for r in $(seq "$RUNS"); do
            rm -rf "$TMP/out"
            # shellcheck disable=SC2086
            "$CLI" batch --images "$SAMPLES" --methods $method --formats npy \
                --threads "$threads" --out "$TMP/out" |
                sed -n 's/.*s (\([0-9.]*\) images\/s)$/\1/p'
        done | median | xargs printf "%-36s threads %d  %s images/s\n" "$method" "$threads"
    done
done

echo "## batch of 9 vs 9 explain processes (saliency, 1 thread)"
cat > "$TMP/batch.sh" <<EOS
rm -rf "$TMP/fb" && "$CLI" batch --images "$SAMPLES" --methods saliency --formats npy --threads 1 --out "$TMP/fb" > /dev/null
EOS
cat > "$TMP/explain.sh" <<EOS
for f in "$SAMPLES"/*.png "$SAMPLES"/*.jpg; do
    "$CLI" explain --image "\$f" --method saliency --threads 1 --raw "$TMP/e.npy" > /dev/null || exit 1
done
EOS
if command -v farm-bench > /dev/null 2>&1; then
    farm-bench -n "$RUNS" --timeout 600 --vs "sh $TMP/explain.sh" -- sh "$TMP/batch.sh"
else
    for r in $(seq "$RUNS"); do
        /usr/bin/time -f "%e" sh "$TMP/batch.sh" 2>&1 | tail -n 1 >> "$TMP/a"
        /usr/bin/time -f "%e" sh "$TMP/explain.sh" 2>&1 | tail -n 1 >> "$TMP/b"
    done
    echo "batch $(median < "$TMP/a") s, explain x9 $(median < "$TMP/b") s"
fi

echo "## peak RSS (saliency, 2 threads, .npy written)"
for count in 10 1000; do
    i=0
    : > "$TMP/list-$count.txt"
    while [ $i -lt "$count" ]; do
        for f in "$SAMPLES"/*.png "$SAMPLES"/*.jpg; do
            [ $i -lt "$count" ] && echo "$f" >> "$TMP/list-$count.txt"
            i=$((i + 1))
        done
    done
    rm -rf "$TMP/rss"
    /usr/bin/time -f "%M" -o "$TMP/rss-$count" "$CLI" batch --list "$TMP/list-$count.txt" \
        --methods saliency --formats npy --threads 2 --out "$TMP/rss" | tail -n 1
    echo "$count images: peak RSS $(cat "$TMP/rss-$count") KB"
done
