#!/bin/sh
# Speed and memory of heatlens-cli batch on the bundled model (docs/batch.md):
#  1. throughput (images/s, batch's own count: model loaded, files written)
#     for saliency, layer_grad_cam and integrated_gradients at 50 steps,
#     with 1 and 2 threads, over the 9 photos of data/samples, median of
#     RUNS; beside it the process's CPU seconds per image (user + sys,
#     model load included), which a busy machine disturbs less;
#  2. one batch over the 9 photos against one `explain` process per photo
#     (saliency, 1 thread): farm-bench's A/B pairs when it is installed,
#     then per image the wall time, the method's own seconds (manifest /
#     explain --json) and the rest (start, model load, decoding, files);
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
# Sum of the "seconds" fields of a manifest or of explain --json lines.
seconds_sum() { sed -n 's/.*"seconds": \([0-9.]*\).*/\1/p' "$1" | awk '{s+=$1} END {printf "%.4f", s}'; }

echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) processors"
echo "## throughput (median of $RUNS; 9 photos; .npy written)"
for method in saliency layer_grad_cam "integrated_gradients --n-steps 50"; do
    for threads in 1 2; do
        : > "$TMP/rate"; : > "$TMP/cpu"
        for r in $(seq "$RUNS"); do
            rm -rf "$TMP/out"
            # shellcheck disable=SC2086
            /usr/bin/time -f "%U %S" -o "$TMP/time" "$CLI" batch --images "$SAMPLES" \
                --methods $method --formats npy --threads "$threads" --out "$TMP/out" |
                sed -n 's/.*s (\([0-9.]*\) images\/s)$/\1/p' >> "$TMP/rate"
            awk '{printf "%.4f\n", ($1 + $2) / 9}' "$TMP/time" >> "$TMP/cpu"
        done
        printf "%-36s threads %d  %6.3f images/s  %6.3f cpu s/image\n" "$method" \
            "$threads" "$(median < "$TMP/rate")" "$(median < "$TMP/cpu")"
    done
done

echo "## batch of 9 vs 9 explain processes (saliency, 1 thread)"
cat > "$TMP/batch.sh" <<EOS
rm -rf "$TMP/fb" && "$CLI" batch --images "$SAMPLES" --methods saliency --formats npy --threads 1 --out "$TMP/fb" > /dev/null
EOS
cat > "$TMP/explain.sh" <<EOS
: > "$TMP/explain.json"
for f in "$SAMPLES"/*.png "$SAMPLES"/*.jpg; do
    "$CLI" explain --image "\$f" --method saliency --threads 1 --raw "$TMP/e.npy" --json >> "$TMP/explain.json" || exit 1
done
EOS
if command -v farm-bench > /dev/null 2>&1; then
    farm-bench -n "$RUNS" --timeout 600 --vs "sh $TMP/explain.sh" -- sh "$TMP/batch.sh"
fi
: > "$TMP/a"; : > "$TMP/b"
for r in $(seq "$RUNS"); do
    /usr/bin/time -f "%e" -o "$TMP/t" sh "$TMP/batch.sh"
    echo "$(cat "$TMP/t") $(seconds_sum "$TMP/fb/manifest.jsonl")" >> "$TMP/a"
    /usr/bin/time -f "%e" -o "$TMP/t" sh "$TMP/explain.sh"
    echo "$(cat "$TMP/t") $(seconds_sum "$TMP/explain.json")" >> "$TMP/b"
done
for k in a b; do
    awk '{printf "%.4f %.4f %.4f\n", $1 / 9, $2 / 9, ($1 - $2) / 9}' "$TMP/$k" > "$TMP/$k.per"
    wall=$(cut -d' ' -f1 "$TMP/$k.per" | median)
    method=$(cut -d' ' -f2 "$TMP/$k.per" | median)
    rest=$(cut -d' ' -f3 "$TMP/$k.per" | median)
    [ $k = a ] && name="batch  " || name="explain"
    echo "$name per image: wall $wall s = saliency $method s + the rest $rest s (medians of $RUNS)"
done

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
