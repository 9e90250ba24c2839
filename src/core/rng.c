/* rng.c — random numbers: xoshiro256** (Blackman & Vigna) seeded through
 * splitmix64, uniform doubles from the top 53 bits, normals by Marsaglia's
 * polar method (keeping the spare), unbiased integers below n by rejection,
 * and Fisher–Yates shuffles. Every draw takes an explicit sl_rng. */
#include "silico.h"

#include <math.h>

#define GOLDEN 0x9E3779B97F4A7C15ull

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += GOLDEN);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void sl_rng_seed(sl_rng *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&st);
    r->has_spare = 0;
    r->spare = 0;
}

/* The splitmix64 starting point combines both scrambled inputs, so nearby
 * seeds and nearby streams land on unrelated xoshiro states. */
void sl_rng_seed_stream(sl_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t a = seed, b = stream ^ 0xD1B54A32D192ED03ull;
    uint64_t start = splitmix64(&a) ^ rotl(splitmix64(&b), 17);
    sl_rng_seed(r, start);
}

uint64_t sl_rng_u64(sl_rng *r)
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

double sl_rng_uniform(sl_rng *r) { return (double)(sl_rng_u64(r) >> 11) * 0x1.0p-53; }

double sl_rng_normal(sl_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * sl_rng_uniform(r) - 1.0;
        v = 2.0 * sl_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

/* Values below 2^64 mod n are rejected so every residue is equally likely.
 * n = 0 returns 0. */
uint64_t sl_rng_below(sl_rng *r, uint64_t n)
{
    if (n == 0) return 0;
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = sl_rng_u64(r);
        if (x >= threshold) return x % n;
    }
}

void sl_rng_shuffle(sl_rng *r, int *idx, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sl_rng_below(r, (uint64_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
