/* fma_peak [THREADS]: the fp32 peak this machine reaches now, measured: each
 * thread runs 12 independent chains of vector FMAs (enough to fill two FMA
 * pipes of 4-cycle latency) for ~0.3 s; best of 5. Prints GFLOP/s (2 FLOPs
 * per multiply-add). Why measured: the nominal clock in /proc/cpuinfo is
 * not what a core runs at (this VM's 2.45 GHz EPYC turbos to ~3.1 GHz), so
 * "% of peak" from it overstates every efficiency. */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define CHAINS 12
#define ITERS 50000000L

__attribute__((target("avx512f"))) static float run512(void)
{
    __m512 a[CHAINS], b = _mm512_set1_ps(0.9999f), c = _mm512_set1_ps(1e-6f);
    for (int i = 0; i < CHAINS; i++)
        a[i] = _mm512_set1_ps((float)i);
    for (long i = 0; i < ITERS; i++)
        for (int j = 0; j < CHAINS; j++)
            a[j] = _mm512_fmadd_ps(a[j], b, c);
    float s = 0;
    for (int i = 0; i < CHAINS; i++)
        s += _mm512_reduce_add_ps(a[i]);
    return s;
}

__attribute__((target("avx2,fma"))) static float run256(void)
{
    __m256 a[CHAINS], b = _mm256_set1_ps(0.9999f), c = _mm256_set1_ps(1e-6f);
    for (int i = 0; i < CHAINS; i++)
        a[i] = _mm256_set1_ps((float)i);
    for (long i = 0; i < ITERS; i++)
        for (int j = 0; j < CHAINS; j++)
            a[j] = _mm256_fmadd_ps(a[j], b, c);
    float o[8], s = 0;
    for (int i = 0; i < CHAINS; i++) {
        _mm256_storeu_ps(o, a[i]);
        s += o[0];
    }
    return s;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : omp_get_max_threads();
    __builtin_cpu_init();
    int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        fprintf(stderr, "fma_peak: no AVX2+FMA\n");
        return 1;
    }
    double best = 0, sink = 0;
    for (int r = 0; r < 5; r++) {
        double t = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += wide ? run512() : run256();
        t = omp_get_wtime() - t;
        double gf = (double)threads * ITERS * CHAINS * (wide ? 16 : 8) * 2 / t / 1e9;
        if (gf > best)
            best = gf;
    }
    printf("%.0f\n", best + 0 * sink);
    return 0;
}
