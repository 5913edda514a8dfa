/* OpenBLAS kernel selection.
 *
 * Debian 12's OpenBLAS 0.3.21 predates AMD Zen 4/5: on those CPUs its
 * DYNAMIC_ARCH dispatch falls back to the AVX2 "Haswell" kernels although
 * the CPU runs AVX-512, and sgemm then reaches about half the speed the
 * "SkylakeX" (AVX-512) kernels give on the same machine. When the library
 * picked an AVX2 core, the CPU has the AVX-512 subsets those kernels use,
 * and the user did not choose a core (OPENBLAS_CORETYPE) or opt out
 * (HL_BLAS_KEEP_CORE), we re-run OpenBLAS's own dispatch forced to
 * SkylakeX. This runs once, from a constructor, before any thread can be
 * inside a BLAS call. The OpenBLAS entry points are weak: with another BLAS
 * (or a build without DYNAMIC_ARCH) nothing happens. */
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

extern char *openblas_get_corename(void) __attribute__((weak));
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

static int cpu_has_avx512_for_skylakex(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512cd");
#else
    return 0;
#endif
}

const char *hl_blas_select_kernels(void)
{
    if (!openblas_get_corename || !gotoblas_dynamic_init ||
        !gotoblas_dynamic_quit)
        return NULL;
    const char *core = openblas_get_corename();
    if (getenv("OPENBLAS_CORETYPE") || getenv("HL_BLAS_KEEP_CORE") || !core)
        return core;
    if (strcmp(core, "Haswell") != 0 && strcmp(core, "Zen") != 0)
        return core;
    if (!cpu_has_avx512_for_skylakex())
        return core;
    /* OpenBLAS reads the core type from the environment in its dispatch */
    if (setenv("OPENBLAS_CORETYPE", "SkylakeX", 0) != 0)
        return core;
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return openblas_get_corename();
}
