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
#   runs only those)
set -u
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"
BUILD="${2:-build-fuzz}"
OUT="${3:-/tmp/heatlens-fuzz}"

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
    OPENBLAS_NUM_THREADS=1 \
    ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        "$BUILD/tests/fuzz/fuzz-$reader" -rss_limit_mb=2048 -timeout=10 \
        -max_len=$max_len -max_total_time="$SECONDS_PER_TARGET" \
        -print_final_stats=1 -artifact_prefix="$OUT/$reader-" \
        "$corpus" >"$log" 2>&1
    status=$?
    stats=$(grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec' "$log" |
            sed 's/^stat:://' | tr '\n' ' ')
    if [ $status -eq 0 ]; then
        echo "fuzz-$reader: ok, ${SECONDS_PER_TARGET} s, $stats"
        passed=$((passed + 1))
    else
        echo "fuzz-$reader: FAILED (exit $status), $stats; the report:"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^    #[0-9]' "$log" | head -n 40
        echo "fuzz-$reader: save the input above as tests/fuzz/regressions/$reader-<name> (tests/fuzz/README.md)"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
