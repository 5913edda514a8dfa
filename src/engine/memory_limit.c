/* The engine's memory limit (issue 16): a plan's folded constants and a
 * run's activations and gradients are estimated before they are allocated
 * and refused with one line when they exceed it, instead of swapping or
 * being killed. Default: half the physical memory; the CLI's --max-memory
 * and the window set it with hl_set_max_memory. */
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "engine.h"

static _Atomic uint64_t max_memory_;  /* 0: the default */

uint64_t hl_physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0)
        return (uint64_t)8 << 30;  /* unknown: assume 8 GiB */
    return (uint64_t)pages * (uint64_t)size;
}

void hl_set_max_memory(uint64_t bytes)
{
    atomic_store(&max_memory_, bytes);
}

uint64_t hl_default_max_memory(void)
{
    return hl_physical_memory() / 2;
}

uint64_t hl_max_memory(void)
{
    uint64_t m = atomic_load(&max_memory_);
    return m ? m : hl_default_max_memory();
}

hl_status hl_check_memory(uint64_t bytes, const char *file, const char *what,
                          hl_error *err)
{
    uint64_t limit = hl_max_memory();
    if (bytes <= limit)
        return HL_OK;
    return hl_error_set(err, HL_ERR_NOMEM,
                        "%s: %s needs %llu MiB, over the memory limit of "
                        "%llu MiB (--max-memory)", file, what,
                        (unsigned long long)(bytes >> 20),
                        (unsigned long long)(limit >> 20));
}
