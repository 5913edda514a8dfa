/* The one seeded random generator of a run (xoshiro256** seeded through
 * splitmix64), so the same --seed gives the same picture everywhere. */
#ifndef HL_RNG_H
#define HL_RNG_H

#include <stdint.h>

typedef struct hl_rng {
    uint64_t s[4];
    int has_spare;
    double spare;
} hl_rng;

void hl_rng_seed(hl_rng *r, uint64_t seed);
uint64_t hl_rng_u64(hl_rng *r);
double hl_rng_uniform(hl_rng *r);              /* [0, 1) */
double hl_rng_normal(hl_rng *r);               /* N(0, 1) */
uint64_t hl_rng_below(hl_rng *r, uint64_t n);  /* [0, n), unbiased */

#endif
