#!/bin/sh
# Short libFuzzer runs of the three readers (issue 16): builds
# tests/fuzz/fuzz-{onnx,image,npy} with clang (-Dfuzz=enabled: libFuzzer,
# ASan, UBSan) in its own build directory and fuzzes each for SECONDS on a
# scratch copy of its seed corpus. A crash, a sanitizer report, a leak, a
# timeout (>10 s for one input) or an out-of-memory (>2 GB) fails that
# target; the input is kept under OUT_DIR, to be saved as
# tests/fuzz/regressions/<reader>-<name> (replayed by `make test`, see
# tests/fuzz/README.md). Without clang and libFuzzer nothing runs.
# Prints "N passed, N failed" last (one per target).
#
#   tools/fuzz-run.sh [SECONDS] [BUILD_DIR] [OUT_DIR]
#   (defaults: 60, build-fuzz, /tmp/heatlens-fuzz; FUZZ_READERS="image npy"
#   runs only those; FUZZ_SEED=N another libFuzzer seed, default 1)
#
# The libFuzzer seed is fixed (-seed, FUZZ_SEED): libFuzzer's mutations then
# depend only on the seed corpus and the seed, so the CI run explores the
# same inputs as a local run with the same seed; a slower machine explores
# a prefix of a faster one's run. A local pass of the same or a longer run
# (e.g. 180 s) therefore predicts the CI result; a random seed made each CI
# run try inputs never tried before (tests/fuzz/README.md).
set -u
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"
BUILD="${2:-build-fuzz}"
OUT="${3:-/tmp/heatlens-fuzz}"
SEED="${FUZZ_SEED:-1}"

if ! command -v clang >/dev/null 2>&1 ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { (void)d; (void)n; return 0; }' |
       clang -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then
    echo "fuzz: clang with libFuzzer not found (Debian: clang libclang-rt-14-dev); skipped"
    echo "0 passed, 0 failed"
    exit 0
fi
if [ ! -f "$BUILD/build.ninja" ]; then
    CC=clang meson setup "$BUILD" --buildtype=debugoptimized -Dfuzz=enabled \
        -Dgui=disabled >"${TMPDIR:-/tmp}/heatlens-$(basename "$BUILD").setup.log" 2>&1 ||
        { cat "${TMPDIR:-/tmp}/heatlens-$(basename "$BUILD").setup.log"; echo "fuzz: meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$BUILD" tests/fuzz/fuzz-onnx tests/fuzz/fuzz-image \
        tests/fuzz/fuzz-npy >"${TMPDIR:-/tmp}/heatlens-$(basename "$BUILD").build.log" 2>&1; then
    tail -n 30 "${TMPDIR:-/tmp}/heatlens-$(basename "$BUILD").build.log"
    echo "fuzz: building the fuzz targets failed"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
mkdir -p "$OUT"
norand="setarch $(uname -m) -R"
if ! $norand true >/dev/null 2>&1; then
    echo "fuzz: setarch -R (no ASLR) not permitted: addresses vary, so the run is not reproducible"
    norand=""
fi
for reader in ${FUZZ_READERS:-onnx image npy}; do
    corpus="$OUT/corpus-$reader"
    rm -rf "$corpus"
    mkdir -p "$corpus"
    cp tests/fuzz/corpus/$reader/* "$corpus/"
    # -max_len: the ONNX seeds that matter are the small per-op models
    # (tests/fuzz/README.md); photos and arrays get room for a header and
    # some data.
    case $reader in
        onnx) max_len=4096 ;;
        *) max_len=16384 ;;
    esac
    log="$OUT/$reader.log"
    # Reproducible: the same inputs for the same seed on any machine with
    # the same clang (see the header). libFuzzer also records the operands
    # of comparisons, pointers included, as mutation material; so the
    # addresses must not change: no ASLR (setarch -R), and the same stack
    # contents, i.e. the same environment (env -i) and the same argv and
    # program path (run from OUT with relative names). -reload=0: no
    # re-reading of the corpus directory every second (time-dependent).
    cp "$BUILD/tests/fuzz/fuzz-$reader" "$OUT/fuzz-$reader"
    (cd "$OUT" && env -i PATH=/usr/bin:/bin OPENBLAS_NUM_THREADS=1 \
        ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        $norand ./fuzz-$reader -seed="$SEED" -reload=0 -rss_limit_mb=2048 \
        -timeout=10 -max_len=$max_len -max_total_time="$SECONDS_PER_TARGET" \
        -print_final_stats=1 -artifact_prefix=./$reader- \
        corpus-$reader) >"$log" 2>&1
    status=$?
    stats=$(grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' "$log" |
            sed 's/^stat:://' | tr '\n' ' ')
    stats="${stats}corpus $(ls "$corpus" | wc -l) files"
    if [ $status -eq 0 ]; then
        echo "fuzz-$reader: ok, ${SECONDS_PER_TARGET} s, seed $SEED, $stats"
        passed=$((passed + 1))
    else
        echo "fuzz-$reader: FAILED (exit $status), seed $SEED, $stats; the report:"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^    #[0-9]' "$log" | head -n 40
        echo "fuzz-$reader: save the input above (in $OUT) as tests/fuzz/regressions/$reader-<name> (tests/fuzz/README.md)"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
