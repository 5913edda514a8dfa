#!/bin/sh
# The sanitizer job of issue 16: builds Heatlens with AddressSanitizer and
# UBSan (gcc, -Db_sanitize=address,undefined) in its own build directory
# and runs the tests that cover every file reader and every op family.
# Memory errors, undefined behaviour and leaks fail a test; leaks that
# fontconfig keeps on purpose until exit are suppressed by
# tests/sanitize/lsan.supp (only those). Run by .ci/run after `make test`;
# prints "N passed, N failed" last (exit status 1 when something failed).
#
#   tools/sanitize-tests.sh [BUILD_DIR]        (default: build-asan)
#
# The subset, and what each test reaches:
#   ops-conv ops-pool ops-act ops-math ops-shape ops-unary ops-norm
#   ops-resize ops-conv-own-kernels
#                      every op family, forward and backward (the engine's
#                      own convolution kernels as well as oneDNN's)
#   onnx-errors hostile-models onnx-wire models large-graph
#                      the ONNX reader: broken, hostile and real models
#   io-image io-npy io-file-read io-mutations io-preprocess
#                      the PNG, JPEG and BMP decoders and the .npy reader on
#                      good, broken and mutated files
#   fuzz-corpus        every fuzz seed and saved crash reproducer
#   viz-export viz-overlay
#                      PNG/PDF/SVG writing through cairo (and its fonts)
#   attr-units attr-axioms
#                      the attribution methods over the engine's backward
#   cli                heatlens-cli end to end, error paths included
set -u
cd "$(dirname "$0")/.."
BUILD="${1:-build-asan}"
TESTS="ops-conv ops-pool ops-act ops-math ops-shape ops-unary ops-norm
ops-resize ops-conv-own-kernels onnx-errors hostile-models onnx-wire models
large-graph io-image io-npy io-file-read io-mutations io-preprocess
fuzz-corpus viz-export viz-overlay attr-units attr-axioms cli"

if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" --buildtype=debugoptimized -Dwerror=true \
        -Dgui=disabled -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args=-fno-sanitize-recover=undefined >"${TMPDIR:-/tmp}/heatlens-$(basename "$BUILD").setup.log" 2>&1 ||
        { cat "${TMPDIR:-/tmp}/heatlens-$(basename "$BUILD").setup.log"; echo "sanitize: meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
# only what the subset runs: its test programs and their arguments
# (heatlens-cli), as meson lists them
targets=$(/usr/bin/python3 - "$BUILD" $TESTS <<'PY'
import json, os, sys
build = os.path.abspath(sys.argv[1])
want = set(sys.argv[2:])
tests = json.load(open(os.path.join(build, "meson-info", "intro-tests.json")))
out = set()
for t in tests:
    if t["name"] in want:
        for c in t["cmd"]:
            if c.startswith(build + "/"):
                out.add(os.path.relpath(c, build))
            elif not os.path.isabs(c) and not c.startswith("-"):
                out.add(c)   # an argument built here (heatlens-cli)
print(" ".join(sorted(out)))
PY
)
# shellcheck disable=SC2086
if [ -z "$targets" ] || ! ninja -C "$BUILD" $targets; then
    echo "sanitize: the ASan+UBSan build failed"
    echo "0 passed, 1 failed"
    exit 1
fi
supp="$(pwd)/tests/sanitize/lsan.supp"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OPENBLAS_NUM_THREADS=1
# shellcheck disable=SC2086
meson test -C "$BUILD" --no-rebuild --print-errorlogs --num-processes 2 \
    --timeout-multiplier 3 $TESTS
sh tools/test-summary.sh "$BUILD/meson-logs/testlog.json"
