/* pg_preview: renders prompts into a contact sheet PNG so a person can look
 * at what the renderer draws, and prints the time per design.
 *
 *   pg_preview [-o sheet.png] [-s seed] [-k] [-c cols] [-w size] [-v seeds]
 *              [-f prompts.txt] [prompt ...]
 *
 * -k renders on skin, -v N renders each prompt with N seeds in a row,
 * -d DIR also writes every design at full size as DIR/NN.png. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cairo.h>
#include "pg_render.h"

static const char *const default_prompts[] = {
    "In the style of TOK, a unique, intricate tattoo on the forearm describing an eternal madness.",
    "dotwork mandala tattoo",
    "traditional rose and dagger tattoo",
    "fine line botanical branch with leaves",
    "geometric wolf head tattoo",
    "japanese koi fish with waves",
    "tribal flame tattoo",
    "blackwork snake coiled",
    "skull with roses, old school",
    "minimalist moon and stars",
    "lettering tattoo saying \"stay wild\"",
    "watercolor butterfly",
    "sketch style eagle",
    "compass and mountains, fine line",
    "celtic knot",
    "lotus flower on a mandala",
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *out = "pg_preview.png", *file = NULL, *dump = NULL;
    uint64_t seed = 1;
    int cols = 4, size = 1024, variants = 1;
    pg_options opt;
    pg_options_default(&opt);
    const char *prompts[256];
    int n = 0;
    static char lines[256][512];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-k")) opt.skin = 1;
        else if (!strcmp(argv[i], "-c") && i + 1 < argc) cols = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-w") && i + 1 < argc) size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-v") && i + 1 < argc) variants = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-f") && i + 1 < argc) file = argv[++i];
        else if (!strcmp(argv[i], "-d") && i + 1 < argc) dump = argv[++i];
        else if (n < 256) prompts[n++] = argv[i];
    }
    if (file) {
        FILE *fp = fopen(file, "r");
        if (!fp) {
            perror(file);
            return 1;
        }
        while (n < 256 && fgets(lines[n], sizeof lines[n], fp)) {
            lines[n][strcspn(lines[n], "\r\n")] = 0;
            if (lines[n][0])
                prompts[n] = lines[n], n++;
        }
        fclose(fp);
    }
    if (n == 0)
        for (size_t i = 0; i < sizeof default_prompts / sizeof default_prompts[0]; i++)
            prompts[n++] = default_prompts[i];
    if (variants < 1)
        variants = 1;
    if (variants > 1)
        cols = variants;
    opt.width = opt.height = size;
    if (size < 16 || size > 8192) {
        fprintf(stderr, "size must be 16..8192\n");
        return 2;
    }
    int total = n * variants, cell = 320, rows = (total + cols - 1) / cols;
    cairo_surface_t *sheet = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cols * cell, rows * cell);
    cairo_t *cr = cairo_create(sheet);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    cairo_paint(cr);
    double t_total = 0;
    for (int k = 0; k < total; k++) {
        int pi = k / variants;
        unsigned char *rgb = NULL;
        pg_info info;
        double t0 = now();
        int st = pg_render(prompts[pi], seed + (uint64_t)(k % variants), &opt, &rgb, &info);
        double dt = now() - t0;
        t_total += dt;
        if (st != PG_OK) {
            fprintf(stderr, "render failed (%d): %s\n", st, prompts[pi]);
            continue;
        }
        printf("%2d %6.1f ms  %s\n    %s\n", k, dt * 1e3, prompts[pi], info.json);
        cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, size, size);
        unsigned char *d = cairo_image_surface_get_data(img);
        int ds = cairo_image_surface_get_stride(img);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                const unsigned char *p = rgb + ((size_t)y * size + x) * 3;
                ((uint32_t *)(d + (size_t)y * ds))[x] = 0xFF000000u | (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
            }
        cairo_surface_mark_dirty(img);
        free(rgb);
        if (dump) {
            char name[1024];
            snprintf(name, sizeof name, "%s/%02d.png", dump, k);
            cairo_surface_write_to_png(img, name);
        }
        cairo_save(cr);
        cairo_translate(cr, (k % cols) * cell + 2, (k / cols) * cell + 2);
        cairo_scale(cr, (cell - 4.0) / size, (cell - 4.0) / size);
        cairo_set_source_surface(cr, img, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
        cairo_paint(cr);
        cairo_restore(cr);
        cairo_surface_destroy(img);
    }
    printf("average %.1f ms per %dx%d design\n", t_total * 1e3 / total, size, size);
    cairo_destroy(cr);
    cairo_surface_write_to_png(sheet, out);
    cairo_surface_destroy(sheet);
    return 0;
}
