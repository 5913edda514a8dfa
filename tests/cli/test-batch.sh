#!/bin/sh
# heatlens-cli batch, batch-merge and gallery end to end, as TAP:
# a folder with a broken image (its error in the manifest, the others done),
# outputs byte for byte equal to explain --raw's, resume after a kill -9, a
# torn manifest line and a Ctrl-C equal to an uninterrupted run, shards
# 0/3 1/3 2/3 merged equal to the unsharded run, --jobs 2 equal to one job,
# top-K and CSV targets, the gallery's HTML parsed by GMarkup.
# Usage: test-batch.sh PATH/TO/heatlens-cli PATH/TO/check-batch-files

CLI="$1"
CHECK="$2"
ROOT="${HL_SOURCE_ROOT:-$(dirname "$0")/../..}"
SAMPLES="$ROOT/data/samples"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hl-batch-test.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

n=0
failed=0
ok() {   # ok STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
diag() { echo "# $*"; }

if [ ! -x "$CLI" ] || [ ! -f "$ROOT/data/models/mobilenet_v2.onnx" ]; then
    echo "1..0 # SKIP no heatlens-cli or no bundled model"
    exit 0
fi
if command -v timeout >/dev/null 2>&1; then RUN="timeout 300"; else RUN=""; fi

# fails DESCRIPTION SUBSTRING -- ARGS: exit 1..127, one stderr line
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
    [ $good -eq 0 ] || { diag "status $st:"; sed 's/^/#   /' "$TMP/err" | head -n 5; }
}

# The manifest without its seconds, one line per entry, sorted.
normal() { sed 's/"seconds": [0-9.]*, //' "$1" | LC_ALL=C sort; }
same_manifest() {   # same_manifest A B DESCRIPTION
    normal "$1" > "$TMP/a.norm"; normal "$2" > "$TMP/b.norm"
    cmp -s "$TMP/a.norm" "$TMP/b.norm" && [ -s "$TMP/a.norm" ]
    st=$?
    ok $st "$3"
    [ $st -eq 0 ] && return
    diff "$TMP/a.norm" "$TMP/b.norm" | head -n 6 | cut -c 1-200 | sed 's/^/#   /'
}
# Every .npy under folder A equals the one under B and B has no others.
same_npys() {   # same_npys A B DESCRIPTION
    st=0; count=0
    for f in $(cd "$1" && find . -name '*.npy' | LC_ALL=C sort); do
        cmp -s "$1/$f" "$2/$f" || { st=1; diag "differs: $f"; }
        count=$((count + 1))
    done
    other=$(cd "$2" && find . -name '*.npy' | wc -l | tr -d ' ')
    [ "$count" -gt 0 ] && [ "$count" = "$other" ] || st=1
    ok $st "$3 ($count .npy files)"
}
lines() { wc -l < "$1" | tr -d ' '; }

# ---------------------------------------------------------------- fixtures
IMGS="$TMP/imgs"
mkdir -p "$IMGS"
cp "$SAMPLES/cat.png" "$SAMPLES/bird.png" "$SAMPLES/hot_dog.jpg" "$IMGS/"
cp "$SAMPLES/hot_dog.jpg" "$IMGS/cat.jpg"        # same stem as cat.png
printf '\211PNG\r\n\032\n\000\000\000\015IHDRgarbage-garbage' > "$IMGS/broken.png"
echo "not an image" > "$IMGS/notes.txt"          # not listed (extension)
METHODS="saliency,integrated_gradients"
ARGS="--methods $METHODS --n-steps 8 --formats npy --threads 1"

# ---------------------------------------------------------------- help, errors
for cmd in batch batch-merge gallery; do
    "$CLI" $cmd --help > "$TMP/out" 2>&1; st=$?
    grep -q "Usage: heatlens-cli $cmd" "$TMP/out"; ok $((st + $?)) "$cmd --help"
done
fails "batch without images" "--images DIR or --list" -- batch --methods saliency --out "$TMP/e1"
fails "batch with --images and --list" "one of them" -- batch --images "$IMGS" --list "$TMP/x" --methods saliency --out "$TMP/e1"
fails "batch with an unknown method" "unknown method 'nope'" -- batch --images "$IMGS" --methods saliency,nope --out "$TMP/e1"
fails "batch --shard 3/3" "0 <= I < N" -- batch --images "$IMGS" --methods saliency --shard 3/3 --out "$TMP/e1"
fails "batch --formats gif" "unknown format 'gif'" -- batch --images "$IMGS" --methods saliency --formats npy,gif --out "$TMP/e1"
fails "batch --target (explain's)" "--targets" -- batch --images "$IMGS" --methods saliency --target 3 --out "$TMP/e1"
fails "batch option no method uses" "--n-steps applies to none" -- batch --images "$IMGS" --methods saliency --n-steps 9 --out "$TMP/e1"
fails "batch --targets top-0" "out of range" -- batch --images "$IMGS" --methods saliency --targets top-0 --out "$TMP/e1"
fails "batch on a missing folder" "--images" -- batch --images "$TMP/none" --methods saliency --out "$TMP/e1"
fails "batch-merge without --out" "--out" -- batch-merge "$TMP/a"
fails "gallery of a folder without batch.json" "batch.json" -- gallery "$TMP" --out "$TMP/g.html"
fails "gallery --out gallery.txt" ".html or .pdf" -- gallery "$TMP" --out "$TMP/g.txt"

# ---------------------------------------------------------------- a folder with a broken image
REF="$TMP/ref"
$RUN "$CLI" batch --images "$IMGS" $ARGS --out "$REF" > "$TMP/out" 2> "$TMP/err"
st=$?
[ $st -eq 1 ]; ok $? "batch with a broken image exits 1 (status $st)"
grep -q "broken.png" "$TMP/err"; ok $? "the broken image's error is on stderr"
"$CHECK" jsonl "$REF/manifest.jsonl" > "$TMP/count"; st=$?
[ $st -eq 0 ] && [ "$(cat "$TMP/count")" = 10 ]; ok $? "manifest: 10 JSON lines (5 images x 2 methods)"
[ "$(grep -c '"stem": "broken".*"error": "[^"]*broken.png' "$REF/manifest.jsonl")" = 2 ]
ok $? "both entries of broken.png carry its error"
[ "$(grep -c '"error": null' "$REF/manifest.jsonl")" = 8 ]; ok $? "the 8 other entries are done"
st=0
for stem in bird cat-png cat-jpg hot_dog; do
    for m in saliency integrated_gradients; do
        [ -s "$REF/$stem/$m.npy" ] || { st=1; diag "missing $stem/$m.npy"; }
    done
done
ok $st "every good image has its .npy per method (cat.png and cat.jpg apart)"
cmp -s "$REF/cat-png/saliency.npy" "$REF/cat-jpg/saliency.npy"
[ $? -ne 0 ]; ok $? "cat.png and cat.jpg did not overwrite each other"
grep -q '"image_sha256": "[0-9a-f]\{64\}".*"model_sha256": "[0-9a-f]\{64\}"' "$REF/manifest.jsonl"
ok $? "lines carry the image and model SHA-256"
grep '"stem": "bird"' "$REF/manifest.jsonl" | grep -q "\"image_sha256\": \"$(sha256sum "$IMGS/bird.png" | cut -c 1-64)\""
ok $? "bird.png's SHA-256 is sha256sum's"
grep '"method": "integrated_gradients"' "$REF/manifest.jsonl" | grep -q '"n-steps": "8".*"delta": [-0-9]'
ok $? "IG lines carry n-steps and a convergence delta"

# ---------------------------------------------------------------- equal to explain
st=0
$RUN "$CLI" explain --image "$IMGS/cat.png" --method saliency --threads 1 \
    --raw "$TMP/explain-saliency.npy" > /dev/null 2>&1
$RUN "$CLI" explain --image "$IMGS/cat.png" --method integrated_gradients --n-steps 8 \
    --threads 1 --raw "$TMP/explain-integrated_gradients.npy" > /dev/null 2>&1
for m in saliency integrated_gradients; do
    cmp -s "$TMP/explain-$m.npy" "$REF/cat-png/$m.npy" || { st=1; diag "$m differs"; }
done
ok $st "batch's .npy equal explain --raw's byte for byte (saliency, IG 8 steps)"
$RUN "$CLI" batch --images "$IMGS" --methods layer_grad_cam --formats npy,png --threads 1 \
    --out "$TMP/gc" > /dev/null 2>&1
"$CLI" explain --image "$IMGS/bird.png" --method layer_grad_cam --threads 1 --raw "$TMP/gc.npy" > /dev/null 2>&1
cmp -s "$TMP/gc.npy" "$TMP/gc/bird/layer_grad_cam.npy"; ok $? "layer_grad_cam .npy equals explain's"
[ "$(head -c 8 "$TMP/gc/bird/layer_grad_cam.png" | od -An -c | tr -d ' \n')" = '211PNG\r\n032\n' ]
ok $? "--formats png writes a PNG"

# ---------------------------------------------------------------- resume after kill -9
K="$TMP/killed"
"$CLI" batch --images "$IMGS" $ARGS --out "$K" > /dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 3000 ] && { [ ! -f "$K/manifest.jsonl" ] || [ "$(lines "$K/manifest.jsonl")" -lt 2 ]; }; do
    sleep 0.02; i=$((i + 1))
done
kill -0 $pid 2>/dev/null; running=$?
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
before=$(lines "$K/manifest.jsonl")
[ $running -eq 0 ] && [ "$before" -lt 10 ]; ok $? "killed mid-way ($before of 10 lines)"
$RUN "$CLI" batch --images "$IMGS" $ARGS --out "$K" --resume > "$TMP/out" 2>&1
same_manifest "$K/manifest.jsonl" "$REF/manifest.jsonl" "resume after kill -9 equals the uninterrupted manifest"
same_npys "$REF" "$K" "resume after kill -9: the same .npy files"

# ---------------------------------------------------------------- a torn last line
T="$TMP/torn"
cp -r "$REF" "$T"
head -n 3 "$REF/manifest.jsonl" > "$T/manifest.jsonl"
sed -n 4p "$REF/manifest.jsonl" | cut -c 1-100 | tr -d '\n' >> "$T/manifest.jsonl"
$RUN "$CLI" batch --images "$IMGS" $ARGS --out "$T" --resume > "$TMP/out" 2>&1
grep -q "torn last line" "$TMP/out"; ok $? "resume says it dropped a torn last line"
same_manifest "$T/manifest.jsonl" "$REF/manifest.jsonl" "resume over a torn line equals the uninterrupted manifest"
fails "batch into a folder with a manifest, no --resume" "--resume" -- batch --images "$IMGS" $ARGS --out "$T"

# ---------------------------------------------------------------- Ctrl-C
C="$TMP/ctrlc"
"$CLI" batch --images "$IMGS" $ARGS --out "$C" > "$TMP/ctrlc.out" 2> "$TMP/ctrlc.err" &
pid=$!
i=0
while [ $i -lt 3000 ] && { [ ! -f "$C/manifest.jsonl" ] || [ "$(lines "$C/manifest.jsonl")" -lt 1 ]; }; do
    sleep 0.02; i=$((i + 1))
done
kill -INT $pid 2>/dev/null
wait $pid; st=$?
after=$(lines "$C/manifest.jsonl")
[ $st -eq 130 ] && [ "$after" -lt 10 ] && [ $((after % 2)) -eq 0 ]
ok $? "Ctrl-C: exit 130 after a whole image ($after lines, status $st)"
grep -q "resume" "$TMP/ctrlc.err"; ok $? "Ctrl-C: says how to finish"
$RUN "$CLI" batch --images "$IMGS" $ARGS --out "$C" --resume > /dev/null 2>&1
same_manifest "$C/manifest.jsonl" "$REF/manifest.jsonl" "resume after Ctrl-C equals the uninterrupted manifest"

# ---------------------------------------------------------------- shards
for i in 0 1 2; do
    $RUN "$CLI" batch --images "$IMGS" $ARGS --shard $i/3 --out "$TMP/shard$i" > /dev/null 2>&1
done
[ "$(grep -c '"stem"' "$TMP/shard0/manifest.jsonl")" = 4 ] && [ "$(lines "$TMP/shard2/manifest.jsonl")" = 2 ]
ok $? "shard 0/3 has images 0 and 3, shard 2/3 image 2"
$RUN "$CLI" batch-merge "$TMP/shard0" "$TMP/shard1" "$TMP/shard2" --out "$TMP/merged" > "$TMP/out" 2> "$TMP/err"
ok $? "batch-merge of the three shards succeeds"
same_manifest "$TMP/merged/manifest.jsonl" "$REF/manifest.jsonl" "merged shards equal the unsharded manifest"
same_npys "$REF" "$TMP/merged" "merged shards: the same .npy files"
$RUN "$CLI" batch-merge "$TMP/shard0" "$TMP/shard1" --out "$TMP/merged2" > "$TMP/out" 2> "$TMP/err"
st=$?
[ $st -eq 1 ] && grep -q "missing: shard 2/3" "$TMP/err"; ok $? "batch-merge names a missing shard"
$RUN "$CLI" batch-merge "$TMP/shard0" "$TMP/shard1" "$TMP/shard2" "$TMP/shard1" --out "$TMP/merged3" > "$TMP/out" 2> "$TMP/err"
st=$?
[ $st -eq 1 ] && grep -q "duplicate: shard 1/3" "$TMP/err"; ok $? "batch-merge names a duplicate shard"
head -n 1 "$TMP/shard1/manifest.jsonl" > "$TMP/one"
mv "$TMP/one" "$TMP/shard1/manifest.jsonl"
$RUN "$CLI" batch-merge "$TMP/shard0" "$TMP/shard1" "$TMP/shard2" --out "$TMP/merged4" > "$TMP/out" 2> "$TMP/err"
st=$?
[ $st -eq 1 ] && [ "$(grep -c "missing: " "$TMP/err")" = 3 ]
ok $? "batch-merge names each missing entry on its own line"
grep -v "^heatlens-cli: " "$TMP/err" | grep -q .; [ $? -ne 0 ]; ok $? "batch-merge: every problem line starts with heatlens-cli:"

# ---------------------------------------------------------------- jobs
$RUN "$CLI" batch --images "$IMGS" $ARGS --threads 2 --jobs 2 --out "$TMP/jobs" > /dev/null 2>&1
same_manifest "$TMP/jobs/manifest.jsonl" "$REF/manifest.jsonl" "--jobs 2 (one thread each) equals one job"

# ---------------------------------------------------------------- targets
printf '%s\n' "$IMGS/cat.png" > "$TMP/list.txt"
$RUN "$CLI" batch --list "$TMP/list.txt" --methods saliency --targets top-2 --formats npy \
    --threads 1 --out "$TMP/top2" > /dev/null 2>&1
ok $? "--targets top-2 succeeds"
t1=$(sed -n 's/.*"target_request": "top:1", "target": \([0-9]*\).*/\1/p' "$TMP/top2/manifest.jsonl")
t2=$(sed -n 's/.*"target_request": "top:2", "target": \([0-9]*\).*/\1/p' "$TMP/top2/manifest.jsonl")
auto=$(sed -n 's/.*"stem": "cat-png".*"method": "saliency".*"target": \([0-9]*\).*/\1/p' "$REF/manifest.jsonl")
[ -n "$t1" ] && [ -n "$t2" ] && [ "$t1" = "$auto" ] && [ "$t1" != "$t2" ] && \
    [ -s "$TMP/top2/cat/saliency-$t1.npy" ] && [ -s "$TMP/top2/cat/saliency-$t2.npy" ]
ok $? "top-2: the top-1 class ($t1) and another ($t2), one file each"
"$CLI" explain --image "$IMGS/cat.png" --method saliency --target "$t2" --threads 1 --raw "$TMP/t2.npy" > /dev/null 2>&1
cmp -s "$TMP/t2.npy" "$TMP/top2/cat/saliency-$t2.npy"; ok $? "top-2's second file equals explain --target $t2"
printf 'image,target\ncat.png,281\ncat.png,tiger cat\n' > "$TMP/targets.csv"
$RUN "$CLI" batch --list "$TMP/list.txt" --methods saliency --targets "$TMP/targets.csv" \
    --formats npy --threads 1 --out "$TMP/csv" > /dev/null 2>&1
ok $? "--targets FILE.csv succeeds"
grep -q '"target_request": "281", "target": 281' "$TMP/csv/manifest.jsonl" && \
    grep -q '"target_request": "tiger cat", "target": [0-9]*, "label": "tiger cat"' "$TMP/csv/manifest.jsonl"
ok $? "CSV targets by index and by label"

# ---------------------------------------------------------------- gallery
$RUN "$CLI" gallery "$REF" --out "$TMP/gallery.html" > "$TMP/out" 2> "$TMP/err"
ok $? "gallery HTML of the folder with a broken image"
pictures=$("$CHECK" html "$TMP/gallery.html" bird cat-png cat-jpg hot_dog 2> "$TMP/err")
st=$?
[ $st -eq 0 ] && [ "$pictures" = 13 ]
ok $? "gallery HTML parses (GMarkup), its pictures are inline PNG, every image has a row ($pictures pictures: 4 x 3 + colour bar)"
[ $st -eq 0 ] || sed 's/^/#   /' "$TMP/err"
broken_error=$(sed -n 's/.*"stem": "broken".*"error": "\([^"<>&]*\)"}$/\1/p' "$REF/manifest.jsonl" | head -n 1)
[ -n "$broken_error" ] && grep -qF "$broken_error" "$TMP/gallery.html"
ok $? "gallery shows the broken image's error ($broken_error)"
grep -q 'src="http\|src="file\|<script\|<link' "$TMP/gallery.html"; [ $? -ne 0 ]
ok $? "gallery HTML loads nothing from outside"
$RUN "$CLI" gallery "$REF" --out "$TMP/gallery.pdf" > /dev/null 2>&1 && \
    [ "$(head -c 5 "$TMP/gallery.pdf")" = "%PDF-" ]
ok $? "gallery PDF"

echo "1..$n"
[ $failed -eq 0 ]
