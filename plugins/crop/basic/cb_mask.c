/* Binary-mask tools of crop.ink: shrink, Otsu, morphology, components. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cb.h"

aigtatt_image *cb_shrink(const aigtatt_image *in, int max_side, double *scale)
{
    int big = in->width > in->height ? in->width : in->height;
    double s = big > max_side ? (double)max_side / big : 1.0;
    int w = (int)lround(in->width * s), h = (int)lround(in->height * s);
    w = w < 1 ? 1 : w;
    h = h < 1 ? 1 : h;
    *scale = (double)w / in->width;
    aigtatt_image *o = cb_host->image_new(w, h, 3);
    if (!o)
        return NULL;
    const double fx = (double)in->width / w, fy = (double)in->height / h;
    for (int y = 0; y < h; y++) {
        int y0 = (int)(y * fy), y1 = (int)ceil((y + 1) * fy);
        y1 = y1 > in->height ? in->height : y1;
        for (int x = 0; x < w; x++) {
            int x0 = (int)(x * fx), x1 = (int)ceil((x + 1) * fx);
            x1 = x1 > in->width ? in->width : x1;
            unsigned long acc[3] = {0, 0, 0}, n = 0;
            for (int sy = y0; sy < y1; sy++)
                for (int sx = x0; sx < x1; sx++, n++)
                    for (int k = 0; k < 3; k++)
                        acc[k] += cb_px(in, sx, sy)[k];
            for (int k = 0; k < 3; k++)
                cb_px(o, x, y)[k] = (uint8_t)(n ? (acc[k] + n / 2) / n : 0);
        }
    }
    return o;
}

int cb_otsu(const uint64_t hist[256])
{
    double total = 0, sum = 0;
    for (int i = 0; i < 256; i++) {
        total += (double)hist[i];
        sum += (double)i * (double)hist[i];
    }
    double wb = 0, sb = 0, best = -1;
    int t = 0;
    for (int i = 0; i < 256; i++) {
        wb += (double)hist[i];
        if (wb == 0)
            continue;
        double wf = total - wb;
        if (wf == 0)
            break;
        sb += (double)i * (double)hist[i];
        double mb = sb / wb, mf = (sum - sb) / wf;
        double between = wb * wf * (mb - mf) * (mb - mf);
        if (between > best) {
            best = between;
            t = i;
        }
    }
    return t;
}

/* One separable pass: out[i] = 1 when the window of radius r around i
 * holds at least `need` set pixels (1 for dilation, the whole window for
 * erosion, where pixels beyond the border count as set). */
static void pass(const uint8_t *in, uint8_t *out, int len, int n, size_t line, size_t step, int r, int erode,
                 int *prefix)
{
    for (int l = 0; l < n; l++) {
        const uint8_t *p = in + (size_t)l * line;
        uint8_t *q = out + (size_t)l * line;
        prefix[0] = 0;
        for (int i = 0; i < len; i++)
            prefix[i + 1] = prefix[i] + (p[(size_t)i * step] != 0);
        for (int i = 0; i < len; i++) {
            int a = i - r < 0 ? 0 : i - r, b = i + r + 1 > len ? len : i + r + 1;
            int set = prefix[b] - prefix[a];
            q[(size_t)i * step] = erode ? (uint8_t)(set == b - a) : (uint8_t)(set > 0);
        }
    }
}

static int morph(uint8_t *m, int w, int h, int r, int erode)
{
    if (r <= 0)
        return AIGTATT_OK;
    uint8_t *tmp = malloc((size_t)w * h);
    int *prefix = malloc(((size_t)(w > h ? w : h) + 1) * sizeof *prefix);
    if (!tmp || !prefix) {
        free(tmp);
        free(prefix);
        cb_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    pass(m, tmp, w, h, (size_t)w, 1, r, erode, prefix);
    pass(tmp, m, h, w, 1, (size_t)w, r, erode, prefix);
    free(tmp);
    free(prefix);
    return AIGTATT_OK;
}

int cb_dilate(uint8_t *m, int w, int h, int r) { return morph(m, w, h, r, 0); }
int cb_erode(uint8_t *m, int w, int h, int r) { return morph(m, w, h, r, 1); }

static int cmp_comp(const void *a, const void *b)
{
    const cb_comp *x = a, *y = b;
    if (x->area != y->area)
        return x->area < y->area ? 1 : -1;
    /* Equal areas: top-left first, so the order never depends on qsort. */
    if (x->box.y1 != y->box.y1)
        return x->box.y1 < y->box.y1 ? -1 : 1;
    return x->box.x1 < y->box.x1 ? -1 : x->box.x1 > y->box.x1;
}

int cb_components(const uint8_t *m, int w, int h, cb_comp **out, size_t *n_out)
{
    size_t n = (size_t)w * h, nc = 0, cap = 16;
    uint8_t *seen = calloc(n, 1);
    size_t *stack = malloc(n * sizeof *stack);
    cb_comp *v = malloc(cap * sizeof *v);
    if (!seen || !stack || !v)
        goto nomem;
    for (size_t start = 0; start < n; start++) {
        if (!m[start] || seen[start])
            continue;
        if (nc == cap) {
            cap *= 2;
            cb_comp *nv = realloc(v, cap * sizeof *nv);
            if (!nv)
                goto nomem;
            v = nv;
        }
        cb_comp c = {0, {w, h, 0, 0}};
        size_t top = 0;
        stack[top++] = start;
        seen[start] = 1;
        while (top) {
            size_t i = stack[--top];
            int x = (int)(i % (size_t)w), y = (int)(i / (size_t)w);
            c.area++;
            c.box.x1 = x < c.box.x1 ? x : c.box.x1;
            c.box.y1 = y < c.box.y1 ? y : c.box.y1;
            c.box.x2 = x + 1 > c.box.x2 ? x + 1 : c.box.x2;
            c.box.y2 = y + 1 > c.box.y2 ? y + 1 : c.box.y2;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                        continue;
                    size_t j = (size_t)ny * w + nx;
                    if (m[j] && !seen[j]) {
                        seen[j] = 1;
                        stack[top++] = j;
                    }
                }
        }
        v[nc++] = c;
    }
    free(seen);
    free(stack);
    if (nc)
        qsort(v, nc, sizeof *v, cmp_comp);
    *out = v;
    *n_out = nc;
    return AIGTATT_OK;
nomem:
    free(seen);
    free(stack);
    free(v);
    cb_host->set_error("out of memory");
    return AIGTATT_ERR_NOMEM;
}
