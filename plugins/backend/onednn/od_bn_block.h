/* The per-block loops of od_bn.c, written once in GCC's generic vectors
 * and included once per (vector width W, element type): W = 8 for nChw8c,
 * 16 for nChw16c and NHWC (16 channels a block), and for plain data
 * (16 pixels of one channel at a time). Each inclusion defines
 * blk_<op>_<SUF>. The compiler lowers the vectors to whatever the
 * enclosing function's target has (od_bn.c clones those for AVX-512, AVX2
 * and the baseline).
 *
 * Sums: each run of up to BN_CHUNK pixels accumulates in float vectors,
 * then goes into double vectors, so long reductions lose nothing and the
 * inner loop stays in float. */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define VF CAT(vf, SUF)
#define VD CAT(vd, SUF)
#define VI CAT(vi, SUF)
#define VU CAT(vu, SUF)
#define VH CAT(vh, SUF)
#define LD CAT(ld, SUF)
#define ST CAT(st, SUF)
#define ETYPE (BF16 ? 2 : 4)

typedef float VF __attribute__((vector_size(W * 4)));
typedef double VD __attribute__((vector_size(W * 8)));
typedef int32_t VI __attribute__((vector_size(W * 4)));
typedef uint32_t VU __attribute__((vector_size(W * 4)));
typedef uint16_t VH __attribute__((vector_size(W * 2)));

/* W elements at element offset off */
static inline __attribute__((always_inline)) VF LD(const void *p, int64_t off)
{
    VF v;
#if BF16
    VH h;
    memcpy(&h, (const uint16_t *)p + off, sizeof h);
    VU u = __builtin_convertvector(h, VU) << 16;
    memcpy(&v, &u, sizeof v);
#else
    memcpy(&v, (const float *)p + off, sizeof v);
#endif
    return v;
}

static inline __attribute__((always_inline)) void ST(void *p, int64_t off, VF v)
{
#if BF16
    VU u, nan = (VU)(v != v);
    memcpy(&u, &v, sizeof u);
    VU r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    r = (r & ~nan) | (0x7fc0u & nan);
    VH h = __builtin_convertvector(r, VH);
    memcpy((uint16_t *)p + off, &h, sizeof h);
#else
    memcpy((float *)p + off, &v, sizeof v);
#endif
}

static inline __attribute__((always_inline)) VF CAT(vload, SUF)(const float *a)
{
    VF v;
    memcpy(&v, a, sizeof v);
    return v;
}

#define VLOAD CAT(vload, SUF)

/* The fused ReLU's mask: x * sc + sh > 0, a multiply then an add exactly
 * as the forward computed y (no contraction in this plugin). */
#define RELU_MASK(xv, vsc, vsh) ((xv) * (vsc) + (vsh) > (VF){ 0 })

/* ---- blocks of W channels (nChw8c, nChw16c, NHWC) ---- */

/* sums of (x - K) and (x - K)^2 per lane; K = the block's first pixel */
static inline __attribute__((always_inline)) void CAT(blk_stats, SUF)(const void *x, const od_bn_geo *g, int64_t cb,
                                                                    float *K, double *s1, double *s2)
{
    VF k = LD(x, cb * g->sB);
    VD a1 = { 0 }, a2 = { 0 };
    for (int64_t n = g->n0; n < g->n1; n++) {
        int64_t base = n * g->sN + cb * g->sB;
        for (int64_t i0 = 0; i0 < g->HW; i0 += BN_CHUNK) {
            int64_t i1 = i0 + BN_CHUNK < g->HW ? i0 + BN_CHUNK : g->HW;
            VF f1 = { 0 }, f2 = { 0 };
            for (int64_t i = i0; i < i1; i++) {
                VF d = LD(x, base + i * g->sI) - k;
                f1 += d;
                f2 += d * d;
            }
            a1 += __builtin_convertvector(f1, VD);
            a2 += __builtin_convertvector(f2, VD);
        }
    }
    memcpy(K, &k, sizeof k);
    memcpy(s1, &a1, sizeof a1);
    memcpy(s2, &a2, sizeof a2);
}

static inline __attribute__((always_inline)) void CAT(blk_apply, SUF)(const void *x, void *y, const od_bn_geo *g,
                                                                    int64_t cb, const float *sc, const float *sh,
                                                                    int relu)
{
    VF vsc = VLOAD(sc), vsh = VLOAD(sh);
    for (int64_t n = g->n0; n < g->n1; n++) {
        int64_t base = n * g->sN + cb * g->sB;
        for (int64_t i = 0; i < g->HW; i++) {
            int64_t o = base + i * g->sI;
            VF v = LD(x, o) * vsc + vsh;
            if (relu)
                v = (VF)((VI)v & (v > (VF){ 0 }));
            ST(y, o, v);
        }
    }
}

/* sums of dy' and dy' (x - mean); dy' = dy, masked by the ReLU if fused */
static inline __attribute__((always_inline)) void CAT(blk_bsums, SUF)(const void *dy, const void *x, int relu,
                                                                    const float *sc, const float *sh,
                                                                    const od_bn_geo *g, int64_t cb,
                                                                    const float *mean, double *sdy, double *sdyx)
{
    VF vsc = VLOAD(sc), vsh = VLOAD(sh), m = VLOAD(mean);
    VD a1 = { 0 }, a2 = { 0 };
    for (int64_t n = g->n0; n < g->n1; n++) {
        int64_t base = n * g->sN + cb * g->sB;
        for (int64_t i0 = 0; i0 < g->HW; i0 += BN_CHUNK) {
            int64_t i1 = i0 + BN_CHUNK < g->HW ? i0 + BN_CHUNK : g->HW;
            VF f1 = { 0 }, f2 = { 0 };
            for (int64_t i = i0; i < i1; i++) {
                int64_t o = base + i * g->sI;
                VF xv = LD(x, o), d = LD(dy, o);
                if (relu)
                    d = (VF)((VI)d & RELU_MASK(xv, vsc, vsh));
                f1 += d;
                f2 += d * (xv - m);
            }
            a1 += __builtin_convertvector(f1, VD);
            a2 += __builtin_convertvector(f2, VD);
        }
    }
    memcpy(sdy, &a1, sizeof a1);
    memcpy(sdyx, &a2, sizeof a2);
}

/* dx = k1 dy' + kx x + k0 */
static inline __attribute__((always_inline)) void CAT(blk_dx, SUF)(const void *dy, const void *x, int relu,
                                                                 const float *sc, const float *sh, void *dx,
                                                                 const od_bn_geo *g, int64_t cb, const float *k1,
                                                                 const float *kx, const float *k0)
{
    VF vsc = VLOAD(sc), vsh = VLOAD(sh), v1 = VLOAD(k1), vx = VLOAD(kx), v0 = VLOAD(k0);
    for (int64_t n = g->n0; n < g->n1; n++) {
        int64_t base = n * g->sN + cb * g->sB;
        for (int64_t i = 0; i < g->HW; i++) {
            int64_t o = base + i * g->sI;
            VF xv = LD(x, o), d = LD(dy, o);
            if (relu)
                d = (VF)((VI)d & RELU_MASK(xv, vsc, vsh));
            ST(dx, o, v1 * d + (vx * xv + v0));
        }
    }
}

/* ---- plain data: one channel, W pixels at a time, then the tail ---- */

static inline __attribute__((always_inline)) float CAT(sld, SUF)(const void *p, int64_t off)
{
#if BF16
    return od_bf16_to_f32(((const uint16_t *)p)[off]);
#else
    return ((const float *)p)[off];
#endif
}

static inline __attribute__((always_inline)) void CAT(sst, SUF)(void *p, int64_t off, float v)
{
#if BF16
    ((uint16_t *)p)[off] = od_f32_to_bf16(v);
#else
    ((float *)p)[off] = v;
#endif
}

#define SLD CAT(sld, SUF)
#define SST CAT(sst, SUF)

static inline __attribute__((always_inline)) double CAT(hsum, SUF)(VD v)
{
    double s = 0;
    for (int l = 0; l < W; l++)
        s += v[l];
    return s;
}

static inline __attribute__((always_inline)) void CAT(pln_stats, SUF)(const void *x, const od_bn_geo *g, int64_t c,
                                                                    float *K, double *s1, double *s2)
{
    float k = SLD(x, c * g->sB);
    VD a1 = { 0 }, a2 = { 0 };
    double t1 = 0, t2 = 0;
    int64_t nv = g->HW / W * W;
    for (int64_t n = g->n0; n < g->n1; n++) {
        int64_t base = n * g->sN + c * g->sB;
        for (int64_t i0 = 0; i0 < nv; i0 += BN_CHUNK * W) {
            int64_t i1 = i0 + BN_CHUNK * W < nv ? i0 + BN_CHUNK * W : nv;
            VF f1 = { 0 }, f2 = { 0 };
            for (int64_t i = i0; i < i1; i += W) {
                VF d = LD(x, base + i) - k;
                f1 += d;
                f2 += d * d;
            }
            a1 += __builtin_convertvector(f1, VD);
            a2 += __builtin_convertvector(f2, VD);
        }
        for (int64_t i = nv; i < g->HW; i++) {
            double d = (double)SLD(x, base + i) - (double)k;
            t1 += d;
            t2 += d * d;
        }
    }
    *K = k;
    *s1 = CAT(hsum, SUF)(a1) + t1;
    *s2 = CAT(hsum, SUF)(a2) + t2;
}

static inline __attribute__((always_inline)) void CAT(pln_apply, SUF)(const void *x, void *y, const od_bn_geo *g,
                                                                    int64_t c, float sc, float sh, int relu)
{
    int64_t nv = g->HW / W * W;
    for (int64_t n = g->n0; n < g->n1; n++) {
        int64_t base = n * g->sN + c * g->sB;
        for (int64_t i = 0; i < nv; i += W) {
            VF v = LD(x, base + i) * sc + sh;
            if (relu)
                v = (VF)((VI)v & (v > (VF){ 0 }));
            ST(y, base + i, v);
        }
        for (int64_t i = nv; i < g->HW; i++) {
            float v = SLD(x, base + i) * sc + sh;
            SST(y, base + i, relu && !(v > 0.f) ? 0.f : v);
        }
    }
}

static inline __attribute__((always_inline)) void CAT(pln_bsums, SUF)(const void *dy, const void *x, int relu,
                                                                    float sc, float sh, const od_bn_geo *g,
                                                                    int64_t c, float mean, double *sdy,
                                                                    double *sdyx)
{
    VD a1 = { 0 }, a2 = { 0 };
    double t1 = 0, t2 = 0;
    int64_t nv = g->HW / W * W;
    VF vsc = (VF){ 0 } + sc, vsh = (VF){ 0 } + sh;
    for (int64_t n = g->n0; n < g->n1; n++) {
        int64_t base = n * g->sN + c * g->sB;
        for (int64_t i0 = 0; i0 < nv; i0 += BN_CHUNK * W) {
            int64_t i1 = i0 + BN_CHUNK * W < nv ? i0 + BN_CHUNK * W : nv;
            VF f1 = { 0 }, f2 = { 0 };
            for (int64_t i = i0; i < i1; i += W) {
                VF xv = LD(x, base + i), d = LD(dy, base + i);
                if (relu)
                    d = (VF)((VI)d & RELU_MASK(xv, vsc, vsh));
                f1 += d;
                f2 += d * (xv - mean);
            }
            a1 += __builtin_convertvector(f1, VD);
            a2 += __builtin_convertvector(f2, VD);
        }
        for (int64_t i = nv; i < g->HW; i++) {
            float xv = SLD(x, base + i), v = xv * sc + sh;
            double d = relu && !(v > 0.f) ? 0.0 : (double)SLD(dy, base + i);
            t1 += d;
            t2 += d * ((double)xv - (double)mean);
        }
    }
    *sdy = CAT(hsum, SUF)(a1) + t1;
    *sdyx = CAT(hsum, SUF)(a2) + t2;
}

static inline __attribute__((always_inline)) void CAT(pln_dx, SUF)(const void *dy, const void *x, int relu,
                                                                 float sc, float sh, void *dx,
                                                                 const od_bn_geo *g, int64_t c, float k1,
                                                                 float kx, float k0)
{
    int64_t nv = g->HW / W * W;
    VF vsc = (VF){ 0 } + sc, vsh = (VF){ 0 } + sh;
    for (int64_t n = g->n0; n < g->n1; n++) {
        int64_t base = n * g->sN + c * g->sB;
        for (int64_t i = 0; i < nv; i += W) {
            VF xv = LD(x, base + i), d = LD(dy, base + i);
            if (relu)
                d = (VF)((VI)d & RELU_MASK(xv, vsc, vsh));
            ST(dx, base + i, k1 * d + (kx * xv + k0));
        }
        for (int64_t i = nv; i < g->HW; i++) {
            float xv = SLD(x, base + i), v = xv * sc + sh;
            float d = relu && !(v > 0.f) ? 0.f : SLD(dy, base + i);
            SST(dx, base + i, k1 * d + (kx * xv + k0));
        }
    }
}

/* ---- NHWC by rows: each pixel's C channels are contiguous; threads take
 * ranges of rows (pixels) and keep per-channel partial sums, so every
 * cache line is read once per pass. f1, f2: float scratch of C each. */

static inline __attribute__((always_inline)) void CAT(vstore, SUF)(float *a, VF v) { memcpy(a, &v, sizeof v); }

#define VSTORE CAT(vstore, SUF)

/* One vector of the backward's sums (channels at a: sc, sh, mean, f1, f2
 * offset to them), shared by the row_ and row2_ loops. */
static inline __attribute__((always_inline)) void CAT(bsums_step, SUF)(VF xv, VF d, int relu, const float *sc,
                                                                     const float *sh, const float *mean, float *f1,
                                                                     float *f2)
{
    if (relu)
        d = (VF)((VI)d & RELU_MASK(xv, VLOAD(sc), VLOAD(sh)));
    VSTORE(f1, VLOAD(f1) + d);
    VSTORE(f2, VLOAD(f2) + d * (xv - VLOAD(mean)));
}

/* One vector of dx = k1 dy' + (kx x + k0), dy' masked by the ReLU */
static inline __attribute__((always_inline)) VF CAT(dx_value, SUF)(VF xv, VF d, int relu, const float *sc,
                                                                 const float *sh, const float *k1, const float *kx,
                                                                 const float *k0)
{
    if (relu)
        d = (VF)((VI)d & RELU_MASK(xv, VLOAD(sc), VLOAD(sh)));
    return VLOAD(k1) * d + (VLOAD(kx) * xv + VLOAD(k0));
}

static inline __attribute__((always_inline)) void CAT(row_stats, SUF)(const void *x, int64_t C, int64_t r0, int64_t r1,
                                                                    const float *K, float *f1, float *f2,
                                                                    double *d1, double *d2)
{
    for (int64_t q0 = r0; q0 < r1; q0 += BN_CHUNK) {
        int64_t q1 = q0 + BN_CHUNK < r1 ? q0 + BN_CHUNK : r1;
        bn_partials_clear(f1, f2, C);
        for (int64_t r = q0; r < q1; r++)
            for (int64_t c = 0; c < C; c += W) {
                VF d = LD(x, r * C + c) - VLOAD(K + c);
                VSTORE(f1 + c, VLOAD(f1 + c) + d);
                VSTORE(f2 + c, VLOAD(f2 + c) + d * d);
            }
        bn_partials_flush(f1, f2, d1, d2, C);
    }
}

static inline __attribute__((always_inline)) void CAT(row_apply, SUF)(const void *x, void *y, int64_t C, int64_t r0,
                                                                    int64_t r1, const float *sc, const float *sh,
                                                                    int relu)
{
    for (int64_t r = r0; r < r1; r++)
        for (int64_t c = 0; c < C; c += W) {
            VF v = LD(x, r * C + c) * VLOAD(sc + c) + VLOAD(sh + c);
            if (relu)
                v = (VF)((VI)v & (v > (VF){ 0 }));
            ST(y, r * C + c, v);
        }
}

static inline __attribute__((always_inline)) void CAT(row_bsums, SUF)(const void *dy, const void *x, int relu,
                                                                    const float *sc, const float *sh,
                                                                    const float *mean, int64_t C, int64_t r0,
                                                                    int64_t r1, float *f1, float *f2, double *d1,
                                                                    double *d2)
{
    for (int64_t q0 = r0; q0 < r1; q0 += BN_CHUNK) {
        int64_t q1 = q0 + BN_CHUNK < r1 ? q0 + BN_CHUNK : r1;
        bn_partials_clear(f1, f2, C);
        for (int64_t r = q0; r < q1; r++)
            for (int64_t c = 0; c < C; c += W)
                CAT(bsums_step, SUF)(LD(x, r * C + c), LD(dy, r * C + c), relu, sc + c, sh + c, mean + c, f1 + c,
                                     f2 + c);
        bn_partials_flush(f1, f2, d1, d2, C);
    }
}

static inline __attribute__((always_inline)) void CAT(row_dx, SUF)(const void *dy, const void *x, int relu,
                                                                 const float *sc, const float *sh, void *dx,
                                                                 int64_t C, int64_t r0, int64_t r1,
                                                                 const float *k1, const float *kx, const float *k0)
{
    for (int64_t r = r0; r < r1; r++)
        for (int64_t c = 0; c < C; c += W)
            ST(dx, r * C + c,
               CAT(dx_value, SUF)(LD(x, r * C + c), LD(dy, r * C + c), relu, sc + c, sh + c, k1 + c, kx + c, k0 + c));
}

#if BF16 && W == 16
/* ---- NHWC bf16 by rows, 32 channels at a time (C % 32 == 0): a 64-byte
 * load holds 32 bf16 as 16 words, the even channels in the low halves and
 * the odd ones in the high halves, so widening to float and rounding back
 * are shifts and masks within each 32-bit lane, where GCC's widening
 * conversions shuffled across lanes (twice the instructions, which made
 * these passes compute-bound). Every per-channel array (K, sc, sh, mean,
 * k1, kx, k0, f1, f2, d1, d2) is in the paired order of od_bn.c's
 * pair_perm(): per 32 channels the 16 even ones, then the 16 odd ones.
 * Each channel sees the same float operations in the same order as the
 * row_* loops above, so the results are the same bits. */

static inline __attribute__((always_inline)) VU CAT(ld2, SUF)(const void *p, int64_t off)
{
    VU u;
    memcpy(&u, (const uint16_t *)p + off, sizeof u);
    return u;
}

static inline __attribute__((always_inline)) VF CAT(even, SUF)(VU u)
{
    VU t = u << 16;
    VF v;
    memcpy(&v, &t, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) VF CAT(odd, SUF)(VU u)
{
    VU t = u & 0xffff0000u;
    VF v;
    memcpy(&v, &t, sizeof v);
    return v;
}

/* v rounded to bf16 (nearest even; NaN as 0x7fc0, as ST) in the high half */
static inline __attribute__((always_inline)) VU CAT(rne_hi, SUF)(VF v)
{
    VU u, nan = (VU)(v != v);
    memcpy(&u, &v, sizeof u);
    VU r = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    return (r & ~nan) | (0x7fc00000u & nan);
}

static inline __attribute__((always_inline)) void CAT(st2, SUF)(void *p, int64_t off, VF e, VF o)
{
    VU u = (CAT(rne_hi, SUF)(e) >> 16) | CAT(rne_hi, SUF)(o);
    memcpy((uint16_t *)p + off, &u, sizeof u);
}

static inline __attribute__((always_inline)) void CAT(row2_stats, SUF)(const void *x, int64_t C, int64_t r0,
                                                                     int64_t r1, const float *K, float *f1,
                                                                     float *f2, double *d1, double *d2)
{
    for (int64_t q0 = r0; q0 < r1; q0 += BN_CHUNK) {
        int64_t q1 = q0 + BN_CHUNK < r1 ? q0 + BN_CHUNK : r1;
        bn_partials_clear(f1, f2, C);
        for (int64_t r = q0; r < q1; r++)
            for (int64_t c = 0; c < C; c += 2 * W) {
                VU u = CAT(ld2, SUF)(x, r * C + c);
                VF de = CAT(even, SUF)(u) - VLOAD(K + c), dd = CAT(odd, SUF)(u) - VLOAD(K + c + W);
                VSTORE(f1 + c, VLOAD(f1 + c) + de);
                VSTORE(f2 + c, VLOAD(f2 + c) + de * de);
                VSTORE(f1 + c + W, VLOAD(f1 + c + W) + dd);
                VSTORE(f2 + c + W, VLOAD(f2 + c + W) + dd * dd);
            }
        bn_partials_flush(f1, f2, d1, d2, C);
    }
}

static inline __attribute__((always_inline)) void CAT(row2_apply, SUF)(const void *x, void *y, int64_t C, int64_t r0,
                                                                     int64_t r1, const float *sc, const float *sh,
                                                                     int relu)
{
    for (int64_t r = r0; r < r1; r++)
        for (int64_t c = 0; c < C; c += 2 * W) {
            VU u = CAT(ld2, SUF)(x, r * C + c);
            VF e = CAT(even, SUF)(u) * VLOAD(sc + c) + VLOAD(sh + c);
            VF o = CAT(odd, SUF)(u) * VLOAD(sc + c + W) + VLOAD(sh + c + W);
            if (relu) {
                e = (VF)((VI)e & (e > (VF){ 0 }));
                o = (VF)((VI)o & (o > (VF){ 0 }));
            }
            CAT(st2, SUF)(y, r * C + c, e, o);
        }
}

static inline __attribute__((always_inline)) void CAT(row2_bsums, SUF)(const void *dy, const void *x, int relu,
                                                                     const float *sc, const float *sh,
                                                                     const float *mean, int64_t C, int64_t r0,
                                                                     int64_t r1, float *f1, float *f2, double *d1,
                                                                     double *d2)
{
    for (int64_t q0 = r0; q0 < r1; q0 += BN_CHUNK) {
        int64_t q1 = q0 + BN_CHUNK < r1 ? q0 + BN_CHUNK : r1;
        bn_partials_clear(f1, f2, C);
        for (int64_t r = q0; r < q1; r++)
            for (int64_t c = 0; c < C; c += 2 * W) {
                VU ux = CAT(ld2, SUF)(x, r * C + c), ud = CAT(ld2, SUF)(dy, r * C + c);
                CAT(bsums_step, SUF)(CAT(even, SUF)(ux), CAT(even, SUF)(ud), relu, sc + c, sh + c, mean + c, f1 + c,
                                     f2 + c);
                CAT(bsums_step, SUF)(CAT(odd, SUF)(ux), CAT(odd, SUF)(ud), relu, sc + c + W, sh + c + W, mean + c + W,
                                     f1 + c + W, f2 + c + W);
            }
        bn_partials_flush(f1, f2, d1, d2, C);
    }
}

static inline __attribute__((always_inline)) void CAT(row2_dx, SUF)(const void *dy, const void *x, int relu,
                                                                  const float *sc, const float *sh, void *dx,
                                                                  int64_t C, int64_t r0, int64_t r1,
                                                                  const float *k1, const float *kx, const float *k0)
{
    for (int64_t r = r0; r < r1; r++)
        for (int64_t c = 0; c < C; c += 2 * W) {
            VU ux = CAT(ld2, SUF)(x, r * C + c), ud = CAT(ld2, SUF)(dy, r * C + c);
            VF e = CAT(dx_value, SUF)(CAT(even, SUF)(ux), CAT(even, SUF)(ud), relu, sc + c, sh + c, k1 + c, kx + c,
                                      k0 + c);
            VF o = CAT(dx_value, SUF)(CAT(odd, SUF)(ux), CAT(odd, SUF)(ud), relu, sc + c + W, sh + c + W, k1 + c + W,
                                      kx + c + W, k0 + c + W);
            CAT(st2, SUF)(dx, r * C + c, e, o);
        }
}
#endif

#undef VSTORE
#undef VF
#undef VD
#undef VI
#undef VU
#undef VH
#undef LD
#undef ST
#undef ETYPE
#undef VLOAD
#undef SLD
#undef SST
#undef RELU_MASK
