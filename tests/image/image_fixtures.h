/* Shared helpers for the image tests: a scratch folder per test, file
 * helpers, and PNG/JPEG fixtures written with libpng/libjpeg directly (not
 * with the code under test), so that every odd layout is made at test
 * time. Everything is static inline so each test binary uses what it
 * needs without unused-function warnings. */
#ifndef AIGTATT_TEST_IMAGE_FIXTURES_H
#define AIGTATT_TEST_IMAGE_FIXTURES_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <jpeglib.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"
#include "util/error.h"

/* ---- scratch folder ---------------------------------------------------- */

static char fx_dir[256];

static inline void fx_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(fx_dir, sizeof fx_dir, "%s/aigtatt-img-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(fx_dir), "mkdtemp failed");
}

static inline void fx_teardown(void)
{
    DIR *d = opendir(fx_dir);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", fx_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(fx_dir);
}

/* A path inside the scratch folder; static storage, rotating between a
 * few buffers so that two can be used in one expression. */
static inline const char *fx_path(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ & 3];
    snprintf(b, sizeof bufs[0], "%s/%s", fx_dir, name);
    return b;
}

/* Number of entries in the scratch folder; their names, space separated,
 * go to `names` when it is not NULL. */
static inline int fx_count_files(char *names, size_t size)
{
    DIR *d = opendir(fx_dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    if (names && size)
        names[0] = '\0';
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (names)
            snprintf(names + strlen(names), size - strlen(names), "%s ", e->d_name);
    }
    closedir(d);
    return n;
}

static inline void fx_write(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    if (size)
        cr_assert_eq(fwrite(data, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

/* The whole file, malloc'ed (free it). */
static inline uint8_t *fx_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* Non-zero if the NUL-terminated `needle` occurs in p[0..n). */
static inline int fx_contains(const uint8_t *p, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(p + i, needle, m) == 0)
            return 1;
    return 0;
}

/* ---- pixels -------------------------------------------------------------- */

/* A deterministic image with smooth and sharp parts. */
static inline aigtatt_image *fx_pattern(int w, int h, int ch)
{
    aigtatt_image *img = aigtatt_image_new(w, h, ch);
    cr_assert_not_null(img, "%s", aigtatt_last_error());
    for (int y = 0; y < h; y++) {
        uint8_t *p = img->data + (size_t)y * img->stride;
        for (int x = 0; x < w; x++, p += ch) {
            p[0] = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
            if (ch >= 3) {
                p[1] = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
                p[2] = (uint8_t)(((x / 8 + y / 8) & 1) ? 200 : 40);
            }
            if (ch == 4)
                p[3] = (uint8_t)((x * 7 + y * 13) & 255);
        }
    }
    return img;
}

/* Pseudo-random bytes (xorshift), for images that do not compress. */
static inline aigtatt_image *fx_noise(int w, int h, int ch, uint32_t seed)
{
    aigtatt_image *img = aigtatt_image_new(w, h, ch);
    cr_assert_not_null(img);
    uint32_t s = seed ? seed : 1;
    for (size_t i = 0; i < (size_t)h * img->stride; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        img->data[i] = (uint8_t)(s >> 24);
    }
    return img;
}

static inline int fx_images_equal(const aigtatt_image *a, const aigtatt_image *b)
{
    if (a->width != b->width || a->height != b->height || a->channels != b->channels)
        return 0;
    for (int y = 0; y < a->height; y++)
        if (memcmp(a->data + (size_t)y * a->stride, b->data + (size_t)y * b->stride,
                   (size_t)a->width * a->channels) != 0)
            return 0;
    return 1;
}

static inline double fx_psnr(const aigtatt_image *a, const aigtatt_image *b)
{
    cr_assert_eq(a->width, b->width);
    cr_assert_eq(a->height, b->height);
    cr_assert_eq(a->channels, b->channels);
    double se = 0;
    size_t n = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width * a->channels; x++) {
            double d = (double)a->data[(size_t)y * a->stride + x] -
                       b->data[(size_t)y * b->stride + x];
            se += d * d;
            n++;
        }
    if (se == 0)
        return 99.0;
    return 10.0 * log10(255.0 * 255.0 / (se / n));
}

/* ---- PNG fixtures (libpng, independent of the code under test) --------- */

typedef struct fx_png_spec {
    int width, height;
    int color_type;     /* PNG_COLOR_TYPE_* */
    int bit_depth;      /* 1, 2, 4, 8, 16 */
    int interlace;      /* PNG_INTERLACE_NONE / ADAM7 */
    int palette_size;   /* for PALETTE: entries, colour i = (i*40, 255-i*40, i*20) */
    int trns;           /* add a tRNS chunk: palette entry 0 transparent, or the
                           grey/RGB key value 0 */
    int gama;           /* add gAMA 1/1.0 (a strong gamma a decoder must ignore) */
} fx_png_spec;

/* Sample value of (x, y, channel) for a spec, in the PNG's bit depth. */
static inline unsigned fx_png_sample(const fx_png_spec *s, int x, int y, int c)
{
    unsigned maxv = (1u << s->bit_depth) - 1;
    if (s->color_type == PNG_COLOR_TYPE_PALETTE)
        return (unsigned)(x + y) % (unsigned)s->palette_size;
    return (unsigned)(x * 31 + y * 17 + c * 101) % (maxv + 1);
}

static inline int fx_png_channels(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1; /* palette index */
    }
}

static inline void fx_write_png(const char *path, const fx_png_spec *s)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_bytep row = NULL;
    if (setjmp(png_jmpbuf(png))) {
        cr_assert_fail("libpng failed writing fixture %s", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)s->width, (png_uint_32)s->height, s->bit_depth,
                 s->color_type, s->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (s->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        for (int i = 0; i < s->palette_size; i++) {
            pal[i].red = (png_byte)(i * 40);
            pal[i].green = (png_byte)(255 - i * 40);
            pal[i].blue = (png_byte)(i * 20);
        }
        png_set_PLTE(png, info, pal, s->palette_size);
        if (s->trns) {
            png_byte alpha[1] = {0};
            png_set_tRNS(png, info, alpha, 1, NULL);
        }
    } else if (s->trns) {
        png_color_16 key = {0};
        png_set_tRNS(png, info, NULL, 0, &key);
    }
    if (s->gama)
        png_set_gAMA(png, info, 1.0);
    png_write_info(png, info);
    if (s->bit_depth < 8)
        png_set_packing(png);
    if (s->bit_depth == 16)
        png_set_swap(png); /* we fill rows in host (little-endian) order */
    int ch = fx_png_channels(s->color_type);
    size_t bps = s->bit_depth == 16 ? 2 : 1;
    row = malloc((size_t)s->width * ch * bps);
    cr_assert_not_null(row);
    int passes = s->interlace ? png_set_interlace_handling(png) : 1;
    for (int pass = 0; pass < passes; pass++) {
        for (int y = 0; y < s->height; y++) {
            for (int x = 0; x < s->width; x++)
                for (int c = 0; c < ch; c++) {
                    unsigned v = fx_png_sample(s, x, y, c);
                    if (bps == 2) {
                        uint16_t v16 = (uint16_t)v;
                        memcpy(row + ((size_t)x * ch + c) * 2, &v16, 2);
                    } else {
                        row[(size_t)x * ch + c] = (png_byte)v;
                    }
                }
            png_write_row(png, row);
        }
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    fclose(f);
}

/* CRC-32 as PNG uses it, so tests can forge chunks without zlib. */
static inline uint32_t fx_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static inline size_t fx_put_chunk(uint8_t *out, const char *type, const uint8_t *data,
                                  uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    memcpy(out + 4, type, 4);
    if (len)
        memcpy(out + 8, data, len);
    uint32_t crc = fx_crc32(out + 4, 4 + (size_t)len);
    out[8 + len] = (uint8_t)(crc >> 24);
    out[9 + len] = (uint8_t)(crc >> 16);
    out[10 + len] = (uint8_t)(crc >> 8);
    out[11 + len] = (uint8_t)crc;
    return 12 + (size_t)len;
}

/* A well-formed PNG (valid CRCs) whose IHDR claims w x h RGB pixels,
 * followed by a tiny IDAT and IEND. */
static inline size_t fx_forge_png_header(uint8_t *out, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                        (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
                        8, 2, 0, 0, 0};
    /* An empty stored zlib block: header, final stored block of length 0. */
    static const uint8_t idat[] = {0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 1};
    size_t n = 0;
    memcpy(out, sig, 8);
    n += 8;
    n += fx_put_chunk(out + n, "IHDR", ihdr, 13);
    n += fx_put_chunk(out + n, "IDAT", idat, sizeof idat);
    n += fx_put_chunk(out + n, "IEND", NULL, 0);
    return n;
}

/* ---- JPEG fixtures --------------------------------------------------------- */

typedef struct fx_jpeg_spec {
    int width, height;
    J_COLOR_SPACE in_space;   /* JCS_GRAYSCALE, JCS_RGB or JCS_CMYK */
    J_COLOR_SPACE jpeg_space; /* 0: libjpeg's default for in_space; or JCS_YCCK */
    int quality;              /* 0: 90 */
    int progressive;          /* 1: jpeg_simple_progression */
    const jpeg_scan_info *scans; /* custom scan script (with num_scans) */
    int num_scans;
    int no_adobe;             /* CMYK without the Adobe marker (plain ink) */
    /* Pixel source: colour of (x, y) as 1, 3 or 4 samples; NULL: a smooth
     * gradient. */
    void (*pixel)(int x, int y, uint8_t *out);
} fx_jpeg_spec;

static inline void fx_jpeg_default_pixel(int x, int y, int comps, uint8_t *out)
{
    for (int c = 0; c < comps; c++)
        out[c] = (uint8_t)((x * 2 + y * 3 + c * 60) & 255);
}

static inline void fx_write_jpeg(const char *path, const fx_jpeg_spec *s)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    ci.err = jpeg_std_error(&jerr); /* errors exit(): fine for a fixture */
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    int comps = s->in_space == JCS_GRAYSCALE ? 1 : s->in_space == JCS_CMYK ? 4 : 3;
    ci.image_width = (JDIMENSION)s->width;
    ci.image_height = (JDIMENSION)s->height;
    ci.input_components = comps;
    ci.in_color_space = s->in_space;
    jpeg_set_defaults(&ci);
    if (s->jpeg_space)
        jpeg_set_colorspace(&ci, s->jpeg_space);
    if (s->no_adobe)
        ci.write_Adobe_marker = FALSE;
    jpeg_set_quality(&ci, s->quality ? s->quality : 90, TRUE);
    if (s->progressive)
        jpeg_simple_progression(&ci);
    if (s->scans) {
        ci.scan_info = s->scans;
        ci.num_scans = s->num_scans;
    }
    jpeg_start_compress(&ci, TRUE);
    uint8_t *row = malloc((size_t)s->width * comps);
    cr_assert_not_null(row);
    while (ci.next_scanline < ci.image_height) {
        int y = (int)ci.next_scanline;
        for (int x = 0; x < s->width; x++) {
            if (s->pixel)
                s->pixel(x, y, row + (size_t)x * comps);
            else
                fx_jpeg_default_pixel(x, y, comps, row + (size_t)x * comps);
        }
        JSAMPROW r = row;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    free(row);
    fclose(f);
}

/* Number of SOS markers (scans) in a JPEG file's bytes. Marker segments
 * are skipped by length; entropy-coded data only contains FF followed by
 * 00 or RSTn, so scanning for FF DA between them is exact. */
static inline int fx_count_scans(const uint8_t *p, size_t n)
{
    int scans = 0;
    size_t i = 2;
    while (i + 4 <= n) {
        if (p[i] != 0xff) {
            i++;
            continue;
        }
        uint8_t m = p[i + 1];
        if (m == 0x00 || m == 0xff || (m >= 0xd0 && m <= 0xd7)) {
            i += m == 0xff ? 1 : 2;
            continue;
        }
        if (m == 0xd9)
            break;
        size_t len = ((size_t)p[i + 2] << 8) | p[i + 3];
        if (m == 0xda)
            scans++;
        i += 2 + len;
    }
    return scans;
}

static inline aigtatt_image_load_opts fx_opts(void)
{
    aigtatt_image_load_opts o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    return o;
}

/* Asserts that the last error names `path`. */
#define fx_assert_error_names(path)                                                     \
    cr_assert(strstr(aigtatt_last_error(), (path)) != NULL,                             \
              "error text does not name %s: '%s'", (path), aigtatt_last_error())

#endif
