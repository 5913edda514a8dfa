#include <math.h>
#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void hl_rng_seed(hl_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

uint64_t hl_rng_u64(hl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hl_rng_uniform(hl_rng *r)
{
    return (double)(hl_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Box-Muller; keeps the second draw for the next call. */
double hl_rng_normal(hl_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v;
    do
        u = hl_rng_uniform(r);
    while (u <= 0.0);
    v = hl_rng_uniform(r);
    double mag = sqrt(-2.0 * log(u));
    r->spare = mag * sin(2.0 * M_PI * v);
    r->has_spare = 1;
    return mag * cos(2.0 * M_PI * v);
}

uint64_t hl_rng_below(hl_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = hl_rng_u64(r);
    while (x >= limit);
    return x % n;
}
