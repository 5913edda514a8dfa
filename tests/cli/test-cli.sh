#!/bin/sh
# heatlens-cli end to end, as TAP: error cases (exit status != 0, exactly one
# line "heatlens-cli: ..." on stderr, no crash) and, when the bundled model
# is there, the success paths (predict, layers, explain, report).
# Usage: test-cli.sh PATH/TO/heatlens-cli   (HL_SOURCE_ROOT = the source tree)

CLI="$1"
ROOT="${HL_SOURCE_ROOT:-$(dirname "$0")/../..}"
MODEL="$ROOT/data/models/mobilenet_v2.onnx"
CAT="$ROOT/data/samples/cat.png"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hl-cli-test.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

n=0
failed=0
ok() {   # ok COND_STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
    fi
}
skip() {
    n=$((n + 1))
    echo "ok $n # SKIP $1"
}
diag() { echo "# $*"; }

if [ ! -x "$CLI" ]; then
    echo "1..0 # SKIP no heatlens-cli at '$CLI'"
    exit 0
fi
# Every run is bounded: a hang becomes a failed check, not a stalled suite.
if command -v timeout >/dev/null 2>&1; then RUN="timeout 120"; else RUN=""; fi
if command -v /usr/bin/python3 >/dev/null 2>&1; then PY=/usr/bin/python3
elif command -v python3 >/dev/null 2>&1; then PY=python3
else PY=""; fi

# ---------------------------------------------------------------- fixtures

# Not a PNG past its signature.
printf '\211PNG\r\n\032\n\000\000\000\015IHDRgarbage-garbage' > "$TMP/broken.png"
# A text file with an image name.
echo "hello" > "$TMP/text.png"
# A file that is not ONNX at all, and a truncated protobuf.
echo "this is not a model" > "$TMP/notonnx.onnx"
printf '\010\007\072\133\012\034\012\001' > "$TMP/truncated.onnx"
# A valid ONNX graph (opset 13) whose only node has op "FooBarOp":
# x[1,3,8,8] -> FooBarOp (node "weird_node") -> y. Bytes of the protobuf.
printf '\010\007\022\000\072\133\012\034\012\001\170\022\001\171\032\012\167\145\151\162\144\137\156\157\144\145\042\010\106\157\157\102\141\162\117\160\022\001\147\132\033\012\001\170\022\026\012\024\010\001\022\020\012\002\010\001\012\002\010\003\012\002\010\010\012\002\010\010\142\033\012\001\171\022\026\012\024\010\001\022\020\012\002\010\001\012\002\010\003\012\002\010\010\012\002\010\010\102\004\012\000\020\015' > "$TMP/unknown-op.onnx"
# A float32 .npy of shape (2, 2): no model takes that as input.
{
    printf '\223NUMPY\001\000\166\000'
    printf "%-117s\n" "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"
    printf '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
} > "$TMP/wrong-shape.npy"

# ---------------------------------------------------------------- helpers

# fails DESCRIPTION EXPECTED_SUBSTRING -- ARGS...: exit status 1..127 (no
# signal), stderr exactly one line starting "heatlens-cli: " containing the
# substring (case-insensitive; "" = any).
fails() {
    desc="$1"; want="$2"; shift 3
    $RUN "$CLI" "$@" > "$TMP/out" 2> "$TMP/err"
    st=$?
    lines=$(wc -l < "$TMP/err" | tr -d ' ')
    first=$(head -n 1 "$TMP/err")
    good=0
    if [ "$st" -eq 0 ] || [ "$st" -eq 124 ] || [ "$st" -ge 128 ]; then good=1; fi
    if [ "$lines" != 1 ]; then good=1; fi
    case "$first" in "heatlens-cli: "*) ;; *) good=1 ;; esac
    if [ -n "$want" ] && ! grep -qiF -- "$want" "$TMP/err"; then good=1; fi
    ok $good "$desc"
    if [ $good -ne 0 ]; then
        diag "status $st, $lines stderr line(s):"
        sed 's/^/#   /' "$TMP/err" | head -n 5
    fi
}

# succeeds DESCRIPTION -- ARGS...: exit 0 (stdout in $TMP/out).
succeeds() {
    desc="$1"; shift 2
    $RUN "$CLI" "$@" > "$TMP/out" 2> "$TMP/err"
    st=$?
    ok $st "$desc"
    if [ $st -ne 0 ]; then
        diag "status $st:"
        sed 's/^/#   /' "$TMP/err" | head -n 5
    fi
}

# json_ok FILE PYTHON_EXPR DESCRIPTION: FILE is JSON and EXPR (on d) holds.
json_ok() {
    if [ -z "$PY" ]; then skip "no python3 to parse JSON ($3)"; return; fi
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1" 2>/dev/null
    ok $? "$3"
}

# npy_shape FILE: the shape tuple of a .npy header, e.g. "(1, 3, 224, 224)".
npy_shape() {
    head -c 256 "$1" | LC_ALL=C tr -d '\000' | LC_ALL=C sed -n "s/.*'shape': *\(([^)]*)\).*/\1/p" | head -n 1
}

# ---------------------------------------------------------------- help

"$CLI" --help > "$TMP/out" 2>&1; st=$?
grep -q "Usage" "$TMP/out"; ok $((st + $?)) "--help prints usage, exit 0"
"$CLI" --version > "$TMP/out" 2>&1; st=$?
grep -q "heatlens-cli [0-9]" "$TMP/out"; ok $((st + $?)) "--version"
for cmd in predict layers explain report; do
    "$CLI" $cmd --help > "$TMP/out" 2>&1; st=$?
    grep -q "Usage: heatlens-cli $cmd" "$TMP/out"; ok $((st + $?)) "$cmd --help"
done
"$CLI" explain --help > "$TMP/out" 2>&1
grep -q -- "--n-steps" "$TMP/out"; ok $? "explain --help lists method options from the table"
"$CLI" explain --method occlusion --help > "$TMP/out" 2>&1
grep -q -- "--strides C,H,W" "$TMP/out" && ! grep -q -- "--n-steps" "$TMP/out"
ok $? "explain --method occlusion --help shows that method's options only"

# ---------------------------------------------------------------- errors

fails "no command" "command" --
fails "unknown command" "valid: predict" -- frobnicate
fails "missing model file" "nope.onnx" -- predict --model "$TMP/nope.onnx" --image "$CAT"
fails "text file as model" "notonnx.onnx" -- layers --model "$TMP/notonnx.onnx"
fails "truncated model" "truncated.onnx" -- layers --model "$TMP/truncated.onnx"
fails "model with an unknown op" "FooBarOp" -- layers --model "$TMP/unknown-op.onnx"
fails "predict: unknown option" "valid:" -- predict --frobnicate 3
fails "predict: option without its value" "needs a value" -- predict --image
fails "predict: --top 0" "top" -- predict --top 0 --image "$CAT"
fails "predict: --threads abc" "threads" -- predict --threads abc --image "$CAT"
fails "predict: --max-memory abc" "--max-memory: 'abc' is not a size" -- predict --max-memory abc --image "$CAT"
# MobileNet V2's batch-1 run (activations and gradients) needs more than 8 MiB
fails "predict: --max-memory 8M" "over the memory limit of 8 MiB" -- predict --max-memory 8M --image "$CAT"
fails "predict: stray argument" "unexpected" -- predict cat.png
fails "explain: unknown method" "valid: saliency" -- explain --image "$CAT" --method ig
fails "explain: no method" "--method" -- explain --image "$CAT"
fails "explain: bad viz mode" "viz" -- explain --image "$CAT" --method saliency --out "$TMP/x.png" --viz sparkles
fails "explain: masked_image with sign all" "sign" -- explain --image "$CAT" --method saliency --out "$TMP/x.png" --viz masked_image --sign all
fails "explain: unknown picture format" "x.bmp" -- explain --image "$CAT" --method saliency --out "$TMP/x.bmp"
fails "explain: viz option without --out" "--out" -- explain --image "$CAT" --method saliency --sign all
fails "report: no --out" "--out" -- report --image "$CAT"
fails "report: unknown method" "valid:" -- report --image "$CAT" --methods saliency,nonsense --out "$TMP/r.png"
fails "evaluate: unknown metric" "valid: infidelity" -- evaluate --image "$CAT" --method saliency --metrics faithfulness
fails "evaluate: no method" "--method" -- evaluate --image "$CAT"
fails "evaluate: plots as .bmp" "x.bmp" -- evaluate --image "$CAT" --method saliency --out "$TMP/x.bmp"
fails "evaluate: 1 randomisation stage" "stages" -- evaluate --image "$CAT" --method saliency --stages 1

if [ -f "$MODEL" ]; then
    fails "missing image" "nope.png" -- predict --image "$TMP/nope.png"
    fails "broken PNG" "broken.png" -- predict --image "$TMP/broken.png"
    fails "text file named .png" "text.png" -- predict --image "$TMP/text.png"
    fails "input-npy of the wrong shape" "shape" -- predict --input-npy "$TMP/wrong-shape.npy"
    fails "no input" "--image" -- predict
    fails "--input-size the model cannot take" "input-size" -- predict --image "$CAT" --input-size 160,160
    fails "bad --mean" "--mean" -- predict --image "$CAT" --mean 1,2
    fails "explain: unknown method option" "n-stepz" -- explain --image "$CAT" --method saliency --n-stepz 3
    fails "explain: option of another method" "does not apply" -- explain --image "$CAT" --method saliency --n-steps 10
    fails "explain: bad option value" "n-steps" -- explain --image "$CAT" --method integrated_gradients --n-steps banana
    fails "explain: unknown layer" "valid:" -- explain --image "$CAT" --method layer_grad_cam --layer no_such_layer
    fails "explain: target out of range" "range" -- explain --image "$CAT" --method saliency --target 100000
    fails "explain: target not a number" "target" -- explain --image "$CAT" --method saliency --target -x-
    fails "explain: --target 'cat' is no class; the close ones are listed" "tiger cat" -- explain --image "$CAT" --method saliency --target cat --json
    succeeds "explain: --target by one synonym in any case ('Tabby CAT')" -- explain --image "$CAT" --method saliency --target "Tabby CAT" --json
    json_ok "$TMP/out" "d['label'].startswith('tabby')" "--target 'Tabby CAT' explains the tabby class"
    fails "explain: --layer on an input method" "--layer" -- explain --image "$CAT" --method saliency --layer whatever
    fails "explain: --target on a layer method without target" "--target" -- explain --image "$CAT" --method layer_activation --target 3
    fails "explain: neuron method on a layer without a grid" "--neuron" -- explain --image "$CAT" --method neuron_gradient --layer Logits
    fails "explain: bad --outlier-perc" "outlier-perc" -- explain --image "$CAT" --method saliency --out "$TMP/x.png" --outlier-perc 150
    fails "explain: broken PNG" "broken.png" -- explain --image "$TMP/broken.png" --method saliency
    fails "explain: model with an unknown op" "FooBarOp" -- explain --model "$TMP/unknown-op.onnx" --input-npy "$TMP/wrong-shape.npy" --method saliency
    fails "predict: a model whose output is not class scores" "not an image classifier" -- predict --model "$ROOT/tests/data/app/not-classifier.onnx" --image "$CAT"
    fails "explain: a model whose output is not class scores" "[1,3,8,8]" -- explain --model "$ROOT/tests/data/app/not-classifier.onnx" --image "$CAT" --method saliency
else
    skip "bundled model missing: image and method error cases"
fi

# ---------------------------------------------------------------- success

if [ ! -f "$MODEL" ] || [ ! -f "$CAT" ]; then
    skip "bundled model or data/samples/cat.png missing: success paths"
    echo "1..$n"
    exit 0
fi

succeeds "predict on the cat" -- predict --image "$CAT" --top 3
sed -n 2p "$TMP/out" | grep -qiE 'cat|tabby|lynx'; ok $? "the first class is a cat: $(sed -n 2p "$TMP/out")"
succeeds "predict --json --raw" -- predict --image "$CAT" --json --raw "$TMP/logits.npy"
cp "$TMP/out" "$TMP/predict.json"
json_ok "$TMP/predict.json" "len(d['top']) == 5 and d['top'][0]['probability'] >= d['top'][1]['probability']" "predict --json is valid JSON with 5 classes, best first"
shape=$(npy_shape "$TMP/logits.npy")
case "$shape" in "(1, 100"[01]")") r=0 ;; *) r=1 ;; esac
ok $r "predict --raw writes the logits as .npy, shape $shape"
head -c 6 "$TMP/logits.npy" | od -An -c | grep -q "N   U   M   P   Y"; ok $? ".npy magic"

succeeds "layers" -- layers
[ "$(grep -c ' Conv ' "$TMP/out")" -ge 10 ]; ok $? "layers lists the convolutions"
succeeds "layers --json" -- layers --json
cp "$TMP/out" "$TMP/layers.json"
json_ok "$TMP/layers.json" "len(d['nodes']) > 10 and all('op' in x and 'shape' in x for x in d['nodes'])" "layers --json is valid JSON with nodes"

succeeds "explain saliency --raw --json" -- explain --image "$CAT" --method saliency --raw "$TMP/sal.npy" --json --threads 2
cp "$TMP/out" "$TMP/sal.json"
shape=$(npy_shape "$TMP/sal.npy")
[ "$shape" = "(1, 3, 224, 224)" ]; ok $? "explain --raw: .npy of shape (1, 3, 224, 224), got $shape"
json_ok "$TMP/sal.json" "d['method'] == 'saliency' and d['target'] >= 0 and 0 < d['probability'] <= 1 and d['seconds'] >= 0 and 'delta' not in d" "explain --json: target, label, probability, seconds"

succeeds "explain integrated_gradients (8 steps)" -- explain --image "$CAT" --method integrated_gradients --n-steps 8 --json --threads 1
cp "$TMP/out" "$TMP/ig.json"
json_ok "$TMP/ig.json" "'delta' in d and isinstance(d['delta'], float)" "integrated_gradients reports a convergence delta"
succeeds "explain neuron_gradient without --neuron --json" -- explain --image "$CAT" --method neuron_gradient --json --threads 1
cp "$TMP/out" "$TMP/neuron.json"
json_ok "$TMP/neuron.json" "d['neuron'][1:] == [7, 7] and d['layer'] != ''" "the default neuron is the centre cell (7,7) of the 14x14 default layer"

succeeds "explain layer_grad_cam with the automatic layer" -- explain --image "$CAT" --method layer_grad_cam --raw "$TMP/cam.npy" --out "$TMP/cam.png" --viz blended_heat_map --json --threads 1
cp "$TMP/out" "$TMP/cam.json"
json_ok "$TMP/cam.json" "d.get('layer')" "layer_grad_cam names the layer it chose"
head -c 8 "$TMP/cam.png" | od -An -c | grep -q "P   N   G"; ok $? "explain --out writes a PNG"

# Per-method default sign and colormap (hl_viz_method_defaults, docs/trust.md),
# recorded as tEXt in the PNG: a CAM shows its positive part (on pets.jpg,
# Boston bull's negative CAM values lie on the gravel), signed maps both
# signs on a diverging map, saliency (|gradient|) its magnitude; an explicit
# --sign / --cmap wins.
png_has() { tr '\000' '=' < "$1" | grep -a -q "$2"; }
png_has "$TMP/cam.png" "heatlens.sign=positive"; ok $? "explain --out: layer_grad_cam defaults to sign positive"
succeeds "explain layer_grad_cam on pets.jpg for Boston bull" -- explain --image "$ROOT/data/samples/pets.jpg" --method layer_grad_cam --target 196 --out "$TMP/bull.png" --threads 1
png_has "$TMP/bull.png" "heatlens.sign=positive" && png_has "$TMP/bull.png" "heatlens.cmap=inferno"; ok $? "GradCAM for Boston bull: positive on inferno"
succeeds "explain layer_grad_cam --sign absolute_value" -- explain --image "$ROOT/data/samples/pets.jpg" --method layer_grad_cam --target 196 --sign absolute_value --out "$TMP/bull-abs.png" --threads 1
png_has "$TMP/bull-abs.png" "heatlens.sign=absolute_value" && png_has "$TMP/bull-abs.png" "heatlens.cmap=inferno"; ok $? "an explicit --sign wins; the colormap stays the method's"
succeeds "explain integrated_gradients --out" -- explain --image "$CAT" --method integrated_gradients --n-steps 4 --out "$TMP/ig.png" --threads 1
png_has "$TMP/ig.png" "heatlens.sign=all" && png_has "$TMP/ig.png" "heatlens.cmap=rdwhgn"; ok $? "integrated_gradients defaults to sign all on red-white-green"
succeeds "explain occlusion --viz masked_image" -- explain --image "$CAT" --method occlusion --strides 3,56,56 --window 3,56,56 --viz masked_image --out "$TMP/occ.png" --threads 1
png_has "$TMP/occ.png" "heatlens.sign=absolute_value"; ok $? "a signed method under masked_image (which cannot show 'all') gets absolute_value"
succeeds "explain saliency --out --cmap viridis" -- explain --image "$CAT" --method saliency --cmap viridis --out "$TMP/sal.png" --threads 1
png_has "$TMP/sal.png" "heatlens.sign=absolute_value" && png_has "$TMP/sal.png" "heatlens.cmap=viridis"; ok $? "saliency defaults to absolute_value; an explicit --cmap wins"
# --progress-frames: 8 Riemann steps in batches of 4 = the 4-step rule, then
# the 8-step one; a method that does not loop gives its result as one frame.
succeeds "explain --progress-frames" -- explain --image "$CAT" --method integrated_gradients --n-steps 8 --ig-method riemann_left --internal-batch-size 4 --progress-frames "$TMP/frames" --viz blended_heat_map --threads 1
[ "$(ls "$TMP/frames" | tr '\n' ' ')" = "frame-001.png frame-002.png " ]; ok $? "explain --progress-frames: one frame per estimate (4 then 8 steps), got: $(ls "$TMP/frames" | tr '\n' ' ')"
head -c 8 "$TMP/frames/frame-002.png" | od -An -c | grep -q "P   N   G"; ok $? "the frames are PNGs"
succeeds "explain saliency --progress-frames" -- explain --image "$CAT" --method saliency --progress-frames "$TMP/frames1" --threads 1
[ "$(ls "$TMP/frames1")" = "frame-001.png" ]; ok $? "a method that does not loop writes its result as the one frame"
fails "explain: --progress-frames under a file" "cannot create directory" -- explain --image "$CAT" --method saliency --progress-frames "$CAT/frames"

succeeds "explain --out .pdf" -- explain --image "$CAT" --method saliency --out "$TMP/sal.pdf" --sign all --threads 1
head -c 4 "$TMP/sal.pdf" | grep -q "%PDF"; ok $? "the PDF starts with %PDF"
succeeds "explain --input-npy of the saliency map's shape" -- explain --input-npy "$TMP/sal.npy" --method input_x_gradient --out "$TMP/ixg.svg" --threads 1
grep -q "<svg" "$TMP/ixg.svg"; ok $? "explain --out writes SVG"

succeeds "report saliency,layer_grad_cam --out .png" -- report --image "$CAT" --methods saliency,layer_grad_cam --out "$TMP/report.png" --threads 1
grep -q "^wrote " "$TMP/out"; ok $? "report prints a summary when stderr is not a terminal"
[ ! -s "$TMP/err" ]; ok $? "report prints no progress bar when stderr is not a terminal"
head -c 8 "$TMP/report.png" | od -An -c | grep -q "P   N   G"; ok $? "the report is a PNG"
succeeds "report --out .pdf" -- report --image "$CAT" --methods input_x_gradient --out "$TMP/report.pdf" --threads 1
head -c 4 "$TMP/report.pdf" | grep -q "%PDF"; ok $? "the report PDF starts with %PDF"
succeeds "report --out .svg" -- report --image "$CAT" --methods saliency --out "$TMP/report.svg" --threads 1
grep -q "<svg" "$TMP/report.svg"; ok $? "the report SVG is an SVG document"

# Trust: notices, the delta's meaning, evaluate (docs/trust.md).
succeeds "explain guided_backprop on the ReLU6 model" -- explain --image "$CAT" --method guided_backprop --json --threads 1
cp "$TMP/out" "$TMP/gb.json"
json_ok "$TMP/gb.json" "len(d['notices']) == 1 and 'identical to' in d['notices'][0]" "explain --json: guided_backprop on MobileNet V2 has the notice (no ReLU)"
grep -q "note: guided_backprop: this model has no ReLU" "$TMP/err"; ok $? "explain: the notice is on stderr"
json_ok "$TMP/sal.json" "d['notices'] == []" "explain --json: saliency has no notice"
json_ok "$TMP/ig.json" "abs(d['delta_reference'] - (d['sum'] - d['delta'])) < 1e-3 * abs(d['delta_reference']) and d['delta_note']" "explain --json: delta_reference = F(x) - F(0) = sum - delta, with a note"
succeeds "evaluate saliency: curves and randomisation" -- evaluate --image "$CAT" --method saliency --metrics deletion,insertion,randomization --steps 8 --stages 3 --json --out "$TMP/eval.png" --threads 1
cp "$TMP/out" "$TMP/eval.json"
json_ok "$TMP/eval.json" "len(d['deletion']['probability']) == 9 and abs(d['deletion']['probability'][0] - d['probability']) < 1e-4 and 0 <= d['insertion']['auc'] <= 1" "evaluate --json: deletion starts at the target's probability, 9 points, AUCs"
json_ok "$TMP/eval.json" "len(d['randomization']['stages']) == 3 and d['randomization']['stages'][0]['spearman'] == 1 and d['randomization']['flagged'] is False" "evaluate --json: 3 randomisation stages, saliency not flagged"
head -c 8 "$TMP/eval.png" | od -An -c | grep -q "P   N   G"; ok $? "evaluate --out writes a PNG"
succeeds "evaluate layer_grad_cam as text, plots as SVG" -- evaluate --image "$CAT" --method layer_grad_cam --metrics infidelity,deletion --steps 4 --out "$TMP/eval.svg" --threads 1
grep -q "infidelity:  not computed" "$TMP/out"; ok $? "evaluate: infidelity of a layer map says why it is not computed"
grep -q "<svg" "$TMP/eval.svg"; ok $? "evaluate --out .svg is an SVG document"
succeeds "report --evaluate with a metrics section" -- report --image "$CAT" --methods saliency,guided_backprop --evaluate --metrics deletion,randomization --out "$TMP/report-eval.png" --threads 1
[ -n "$PY" ] && "$PY" - "$TMP/report.png" "$TMP/report-eval.png" <<'PYEOF'
import struct, sys
def size(p):
    b = open(p, 'rb').read(24)
    return struct.unpack('>II', b[16:24])
(w1, h1), (w2, h2) = size(sys.argv[1]), size(sys.argv[2])
sys.exit(0 if w1 == w2 and h2 > h1 + 600 else 1)
PYEOF
ok $? "report --evaluate: the page is as wide and taller by the metrics section"
fails "report: unknown metric" "valid: infidelity" -- report --image "$CAT" --methods saliency --evaluate --metrics nonsense --out "$TMP/r.png"
# the methods of issue 15 through the same CLI
"$CLI" explain --method rise --help > "$TMP/out" 2>&1
grep -q -- "--n-masks" "$TMP/out" && grep -q "n-masks=2000" "$TMP/out" && ! grep -q -- "--n-steps" "$TMP/out"
ok $? "explain --method rise --help shows its options and defaults only"
fails "explain: shapley_values over 196 groups" "shapley_value_sampling" -- explain --image "$CAT" --method shapley_values --feature-mask grid:16
"$CLI" explain --method shapley_values --help > "$TMP/out" 2>&1
grep -q "feature-mask=cells:3" "$TMP/out"
ok $? "explain --method shapley_values --help shows its own default mask, cells:3"
succeeds "explain shapley_values with its default mask (9 groups, 512 forwards)" -- explain --image "$CAT" --method shapley_values --json --threads 2
fails "explain: rise with --mask-prob 0" "mask-prob" -- explain --image "$CAT" --method rise --mask-prob 0
succeeds "report grad_cam_plus_plus,xgrad_cam --out .png" -- report --image "$CAT" --methods grad_cam_plus_plus,xgrad_cam --out "$TMP/report-cams.png" --threads 1
head -c 8 "$TMP/report-cams.png" | od -An -c | grep -q "P   N   G"; ok $? "the report of the CAMs is a PNG"
succeeds "explain neuron_deconvolution" -- explain --image "$CAT" --method neuron_deconvolution --layer MobilenetV2/expanded_conv_15/add --neuron 7,3,4 --json --threads 1

echo "1..$n"
[ $failed -eq 0 ]
