#!/bin/sh
# heatlens-cli batch --evaluate and gallery --sort-by / --color-by, as TAP:
# each manifest line carries the numbers `evaluate --json` gives for the
# same image, method and parameters; --resume keeps evaluated lines and
# redoes them for other metrics; the gallery's rows follow the metric
# (checked by check-evaluate-files from the manifest, with json-glib and
# GMarkup, not by the CLI's code) and are shaded; bad options get one line.
# One engine thread: the numbers of two processes are compared exactly.
# Usage: test-batch-evaluate.sh PATH/TO/heatlens-cli PATH/TO/check-evaluate-files

CLI="$1"
CHECK="$2"
ROOT="${HL_SOURCE_ROOT:-$(dirname "$0")/../..}"
SAMPLES="$ROOT/data/samples"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hl-batch-eval.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

n=0
ok() {   # ok STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
diag() { sed 's/^/#   /' "$1" | head -n "${2:-8}"; }

if [ ! -x "$CLI" ] || [ ! -f "$ROOT/data/models/mobilenet_v2.onnx" ]; then
    echo "1..0 # SKIP no heatlens-cli or no bundled model"
    exit 0
fi
if command -v timeout >/dev/null 2>&1; then RUN="timeout 600"; else RUN=""; fi

# fails DESCRIPTION SUBSTRING -- ARGS: non-zero exit, one stderr line
# "heatlens-cli: ..." containing SUBSTRING.
fails() {
    desc="$1"; want="$2"; shift 3
    $RUN "$CLI" "$@" > "$TMP/out" 2> "$TMP/err"
    st=$?
    good=0
    if [ "$st" -eq 0 ] || [ "$st" -ge 124 ]; then good=1; fi
    [ "$(wc -l < "$TMP/err" | tr -d ' ')" = 1 ] || good=1
    case "$(head -n 1 "$TMP/err")" in "heatlens-cli: "*) ;; *) good=1 ;; esac
    grep -qiF -- "$want" "$TMP/err" || good=1
    ok $good "$desc"
    [ $good -eq 0 ] || diag "$TMP/err"
}

IMGS="$TMP/imgs"
mkdir -p "$IMGS"
cp "$SAMPLES/cat.png" "$SAMPLES/bird.png" "$SAMPLES/hot_dog.jpg" "$IMGS/"
METRICS="infidelity,sensitivity,deletion,insertion,randomization"
ARGS="--methods saliency,layer_grad_cam --formats npy --threads 1"

$RUN "$CLI" batch --images "$IMGS" $ARGS --evaluate --metrics "$METRICS" \
    --out "$TMP/b" > "$TMP/out" 2> "$TMP/err"
ok $? "batch --evaluate over 3 images x 2 methods"
[ "$(grep -c '"evaluate": "infidelity,sensitivity,deletion,insertion,randomization"' "$TMP/b/manifest.jsonl")" = 6 ]
ok $? "every manifest line names the metrics it carries"

for stem in cat bird hot_dog; do
    case $stem in hot_dog) ext=jpg ;; *) ext=png ;; esac
    $RUN "$CLI" evaluate --image "$IMGS/$stem.$ext" --method saliency --metrics "$METRICS" \
        --threads 1 --json > "$TMP/$stem.json" 2> "$TMP/err"
    "$CHECK" same "$TMP/b/manifest.jsonl" "$stem" saliency "$TMP/$stem.json" > "$TMP/out" 2>&1
    st=$?
    ok $st "$stem saliency: manifest numbers equal evaluate --json"
    [ $st -eq 0 ] || diag "$TMP/out" 12
done
$RUN "$CLI" evaluate --image "$IMGS/bird.png" --method layer_grad_cam --metrics "$METRICS" \
    --threads 1 --json > "$TMP/gc.json" 2> "$TMP/err"
"$CHECK" same "$TMP/b/manifest.jsonl" bird layer_grad_cam "$TMP/gc.json" > "$TMP/out" 2>&1
st=$?
ok $st "bird layer_grad_cam: manifest numbers equal evaluate --json (infidelity null in both)"
[ $st -eq 0 ] || diag "$TMP/out" 12

# --resume: the same metrics are kept, other metrics are redone
$RUN "$CLI" batch --images "$IMGS" $ARGS --evaluate --metrics "$METRICS" --resume \
    --out "$TMP/b" > "$TMP/out" 2>&1
grep -q "6 skipped" "$TMP/out"; ok $? "batch --evaluate --resume keeps the 6 evaluated entries"
cp -r "$TMP/b" "$TMP/c"
$RUN "$CLI" batch --images "$IMGS" $ARGS --evaluate --metrics deletion --resume \
    --out "$TMP/c" > "$TMP/out" 2>&1
grep -q "6 entries done" "$TMP/out" && [ "$(grep -c '"evaluate": "deletion"' "$TMP/c/manifest.jsonl")" = 6 ]
ok $? "batch --resume with other metrics redoes the entries"

# gallery: rows by each metric, best first, shaded
for spec in "deletion_auc deletion low" "insertion_auc insertion high" \
            "infidelity infidelity low" "sensitivity_max sensitivity low" \
            "probability probability high"; do
    set -- $spec
    $RUN "$CLI" gallery "$TMP/b" --out "$TMP/g-$2.html" --sort-by "$2" \
        --by-method saliency > "$TMP/out" 2> "$TMP/err"
    st=$?
    [ $st -eq 0 ] && "$CHECK" order "$TMP/g-$2.html" "$TMP/b/manifest.jsonl" saliency "$1" "$3" \
        > "$TMP/out" 2>&1
    st=$?
    ok $st "gallery --sort-by $2: rows $3est first, shaded"
    [ $st -eq 0 ] || diag "$TMP/out" 12
done
$RUN "$CLI" gallery "$TMP/b" --out "$TMP/g.pdf" --sort-by insertion > "$TMP/out" 2> "$TMP/err"
st=$?
[ $st -eq 0 ] && head -c 5 "$TMP/g.pdf" | grep -q "%PDF"; ok $? "gallery --sort-by insertion as PDF"

fails "batch --metrics without --evaluate" "add --evaluate" -- \
    batch --images "$IMGS" --methods saliency --metrics deletion --out "$TMP/x"
fails "batch --metrics with an unknown metric" "valid: infidelity" -- \
    batch --images "$IMGS" --methods saliency --evaluate --metrics faithfulness --out "$TMP/x"
fails "gallery --sort-by an unknown metric" "valid: deletion" -- \
    gallery "$TMP/b" --out "$TMP/x.html" --sort-by accuracy

echo "1..$n"
