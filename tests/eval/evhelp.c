#include "evhelp.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image/image.h"
#include "refrun.h"

int ev_sh(char **out, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[8300];
    snprintf(full, sizeof full, "( %s ) 2>&1", cmd);
    FILE *p = popen(full, "r");
    cr_assert_not_null(p, "cannot run: %s", cmd);
    size_t cap = 4096, n = 0, r;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    buf[n] = 0;
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

char *ev_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

void ev_write(const char *dir, const char *name, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "%s", p);
    fputs(text, f);
    fclose(f);
}

size_t ev_count(const char *hay, const char *needle)
{
    size_t n = 0, l = strlen(needle);
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += l)
        n++;
    return n;
}

char *ev_line_after(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);
    if (!p)
        return NULL;
    p += strlen(prefix);
    size_t n = strcspn(p, "\n");
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

const char *ev_bin(void)
{
    const char *bin = getenv("AIGTATT_BIN");
    cr_assert(bin && *bin, "AIGTATT_BIN is not set (run through ctest)");
    return bin;
}

static void fill_rect(aigtatt_image *im, int x0, int y0, int x1, int y1, const int rgb[3])
{
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < im->height; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < im->width; x++)
            for (int c = 0; c < 3; c++)
                im->data[(size_t)y * im->stride + (size_t)x * 3 + (size_t)c] = (uint8_t)rgb[c];
}

static void ring(aigtatt_image *im, double cx, double cy, double r, double w, const int rgb[3])
{
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++) {
            double d = hypot(x - cx, y - cy);
            if (fabs(d - r) < w / 2)
                for (int c = 0; c < 3; c++)
                    im->data[(size_t)y * im->stride + (size_t)x * 3 + (size_t)c] = (uint8_t)rgb[c];
        }
}

void ev_make_set(const char *dir, int ids, int images)
{
    enum { D = 16 };
    char p[1024];
    snprintf(p, sizeof p, "%s/emb.csv", dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "%s", p);
    fprintf(f, "path,label");
    for (int k = 0; k < D; k++)
        fprintf(f, ",f%d", k);
    fprintf(f, "\n");
    uint64_t s = 1234;
    for (int l = 0; l < ids; l++) {
        double c[D];
        for (int k = 0; k < D; k++)
            c[k] = ref_normal(&s);
        if (images) {
            char d[1100];
            snprintf(d, sizeof d, "%s/img", dir);
            mkdir(d, 0755);
            snprintf(d, sizeof d, "%s/img/T%03d", dir, l);
            cr_assert(mkdir(d, 0755) == 0 || errno == EEXIST, "%s", d);
        }
        int col[3] = {(int)(ref_rand(&s) % 160), (int)(ref_rand(&s) % 160),
                      (int)(ref_rand(&s) % 160)};
        for (int m = 0; m < 3; m++) {
            const char *ext = l % 3 == 2 ? "jpg" : "png";
            char rel[128];
            snprintf(rel, sizeof rel, "img/T%03d/%d.%s", l, m, ext);
            if (images) {
                int w = 160 + (int)(ref_rand(&s) % 360), h = 160 + (int)(ref_rand(&s) % 360);
                aigtatt_image *im = aigtatt_image_new(w, h, 3);
                cr_assert_not_null(im);
                static const int skin[3] = {236, 208, 186};
                static const int mag[3] = {EV_MAGENTA_R, EV_MAGENTA_G, EV_MAGENTA_B};
                fill_rect(im, 0, 0, w, h, skin);
                int side = (w < h ? w : h) / 3;
                fill_rect(im, w / 8, h / 8, w / 8 + side, h / 8 + side, mag);
                ring(im, w * 0.6, h * 0.6, (w < h ? w : h) * 0.25, 8 + m * 3, col);
                char full[1200];
                snprintf(full, sizeof full, "%s/%s", dir, rel);
                cr_assert_eq(aigtatt_image_save(im, full, 92), 0, "%s", full);
                aigtatt_image_free(im);
            }
            fprintf(f, "%s,T%03d", rel, l);
            for (int k = 0; k < D; k++)
                fprintf(f, ",%.6f", c[k] + 1.0 * ref_normal(&s));
            fprintf(f, "\n");
        }
    }
    fclose(f);
}
