/* PNG decoding and encoding with libpng.
 *
 * libpng reports errors by calling our error function, which must not
 * return: it records the message and longjmps back to the setjmp in the
 * *_run function. To keep the setjmp rules simple, every value that
 * changes after setjmp and is needed after the jump (the png structs, the
 * image, the row pointers) lives in a context struct owned by the caller
 * of *_run, never in *_run's own locals: C only makes guarantees about
 * non-volatile locals of the function that called setjmp, and *_run has
 * none that change. The caller releases everything, whichever way *_run
 * returned. */
#include "image/codec.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/error.h"

typedef struct png_src {
    const uint8_t *data;
    size_t size;
    size_t pos;
} png_src;

typedef struct png_ctx {
    const char *name;
    png_structp png;
    png_infop info;
    aigtatt_image *img;  /* decoding: the image being filled */
    png_bytep *rows;     /* decoding: row pointers into img */
    png_src src;
    int status;          /* what a longjmp means; 0 until an error */
    char msg[256];       /* libpng's message for that error */
} png_ctx;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    if (c->status == 0) {
        /* png_set_user_limits() failures are about size, not corruption. */
        c->status = strstr(msg, "user limit") ? AIGTATT_ERR_LIMIT : AIGTATT_ERR_FORMAT;
        snprintf(c->msg, sizeof c->msg, "%s", msg);
    }
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    aigtatt_log(AIGTATT_LOG_DEBUG, "%s: libpng: %s", c->name, msg);
}

static void read_mem(png_structp png, png_bytep out, size_t n)
{
    png_src *s = png_get_io_ptr(png);
    if (n > s->size - s->pos)
        png_error(png, "unexpected end of file (truncated)");
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
}

/* Ancillary chunks we never use. Discarding them unread means no colour
 * management surprises (gAMA, iCCP, sRGB are ignored by design), no
 * warnings about odd profiles and less parser surface for hostile files. */
static const png_byte skipped_chunks[] =
    "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0sCAL\0sBIT\0"
    "sPLT\0sRGB\0tEXt\0tIME\0zTXt";

static int png_decode_run(png_ctx *c, const aigtatt_image_limits *lim)
{
    c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_png_error, on_png_warning);
    if (!c->png)
        goto nomem;
    c->info = png_create_info_struct(c->png);
    if (!c->info)
        goto nomem;
    if (setjmp(png_jmpbuf(c->png)))
        return c->status ? c->status : AIGTATT_ERR_FORMAT;

    png_set_read_fn(c->png, &c->src, read_mem);
    /* libpng refuses these in the IHDR itself, before any allocation; the
     * exact width*height budget is checked below. */
    png_uint_32 dim_max = lim->max_pixels > PNG_UINT_31_MAX ? PNG_UINT_31_MAX
                                                            : (png_uint_32)lim->max_pixels;
    png_set_user_limits(c->png, dim_max, dim_max);
    png_set_keep_unknown_chunks(c->png, PNG_HANDLE_CHUNK_NEVER, skipped_chunks,
                                (int)(sizeof skipped_chunks / 5));
    png_read_info(c->png, c->info);

    png_uint_32 w, h;
    int depth, ctype, interlace;
    png_get_IHDR(c->png, c->info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if ((uint64_t)w * h > lim->max_pixels) {
        aigtatt_set_error("%s: image is %lux%lu (%llu pixels), over the limit of %llu pixels",
                          c->name, (unsigned long)w, (unsigned long)h,
                          (unsigned long long)((uint64_t)w * h),
                          (unsigned long long)lim->max_pixels);
        return AIGTATT_ERR_LIMIT;
    }

    /* Everything becomes 8-bit grey, RGB or RGBA: palettes and sub-byte
     * grey expand, transparency keys become alpha, 16-bit is rounded
     * (scale, not strip), and grey with alpha becomes RGBA because the
     * SDK has no two-channel images. */
    int has_trns = png_get_valid(c->png, c->info, PNG_INFO_tRNS) != 0;
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(c->png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(c->png);
    if (has_trns)
        png_set_tRNS_to_alpha(c->png);
    if (depth == 16) {
#ifdef PNG_READ_SCALE_16_TO_8_SUPPORTED
        png_set_scale_16(c->png);
#else
        png_set_strip_16(c->png);
#endif
    }
    if (ctype == PNG_COLOR_TYPE_GRAY_ALPHA || (ctype == PNG_COLOR_TYPE_GRAY && has_trns))
        png_set_gray_to_rgb(c->png);
    if (interlace != PNG_INTERLACE_NONE)
        (void)png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);

    int channels = png_get_channels(c->png, c->info);
    if (png_get_bit_depth(c->png, c->info) != 8 ||
        (channels != 1 && channels != 3 && channels != 4) ||
        png_get_rowbytes(c->png, c->info) != (size_t)w * (size_t)channels) {
        /* Cannot happen with the transforms above; refuse rather than
         * overrun the rows if a libpng build behaves differently. */
        aigtatt_set_error("%s: unsupported PNG layout (%d channels of %d bits)", c->name,
                          channels, png_get_bit_depth(c->png, c->info));
        return AIGTATT_ERR_FORMAT;
    }

    c->img = aigtatt_image_new((int32_t)w, (int32_t)h, channels);
    if (!c->img) {
        aigtatt_error_prefix("%s", c->name);
        return AIGTATT_ERR_NOMEM;
    }
    c->rows = malloc((size_t)h * sizeof *c->rows);
    if (!c->rows)
        goto nomem;
    for (png_uint_32 y = 0; y < h; y++)
        c->rows[y] = c->img->data + (size_t)y * c->img->stride;
    png_read_image(c->png, c->rows);
    /* Reading up to IEND makes a file cut after its last IDAT an error
     * too, and checks the CRCs of the chunks that follow. */
    png_read_end(c->png, NULL);
    return AIGTATT_OK;

nomem:
    aigtatt_set_error("%s: out of memory decoding PNG", c->name);
    return AIGTATT_ERR_NOMEM;
}

int aigtatt_image_png_decode(const uint8_t *data, size_t size, const char *name,
                             const aigtatt_image_limits *lim, aigtatt_image **out)
{
    png_ctx c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.src.data = data;
    c.src.size = size;
    *out = NULL;

    /* The budget straight from the IHDR bytes: png_read_info() would first
     * read every chunk up to the image data, and a hostile or broken file
     * should be refused as too large, not reported as whatever comes
     * after its header. */
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        uint64_t w = png_get_uint_32(data + 16), h = png_get_uint_32(data + 20);
        if (w * h > lim->max_pixels) {
            aigtatt_set_error("%s: image is %llux%llu (%llu pixels), over the limit of %llu "
                              "pixels", name, (unsigned long long)w, (unsigned long long)h,
                              (unsigned long long)(w * h), (unsigned long long)lim->max_pixels);
            return AIGTATT_ERR_LIMIT;
        }
    }

    int st = png_decode_run(&c, lim);
    if (st != AIGTATT_OK && c.status != 0) {
        if (c.status == AIGTATT_ERR_LIMIT)
            aigtatt_set_error("%s: PNG over the pixel limit: %s", name, c.msg);
        else
            aigtatt_set_error("%s: corrupt or truncated PNG: %s", name, c.msg);
    }
    png_destroy_read_struct(&c.png, &c.info, NULL);
    free(c.rows);
    if (st != AIGTATT_OK) {
        aigtatt_image_free(c.img);
        return st;
    }
    *out = c.img;
    return AIGTATT_OK;
}

static void on_png_write_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    if (c->status == 0) {
        /* libpng's stdio writer says "Write Error" when fwrite fails; any
         * other error while encoding a valid image is a library problem. */
        c->status = strstr(msg, "Write Error") ? AIGTATT_ERR_IO : AIGTATT_ERR;
        snprintf(c->msg, sizeof c->msg, "%s", msg);
    }
    png_longjmp(png, 1);
}

static int png_encode_run(png_ctx *c, const aigtatt_image *img, FILE *fp)
{
    c->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, on_png_write_error,
                                     on_png_warning);
    if (!c->png)
        goto nomem;
    c->info = png_create_info_struct(c->png);
    if (!c->info)
        goto nomem;
    if (setjmp(png_jmpbuf(c->png)))
        return c->status ? c->status : AIGTATT_ERR;

    png_init_io(c->png, fp);
    /* what the reader accepts is written too (libpng's default write
     * limit is 1,000,000 per side) */
    png_set_user_limits(c->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    /* Fixed settings so the same pixels always give the same bytes; no
     * tIME or text chunks are written (libpng adds none by itself). Level 3
     * rather than zlib's 6: on noisy photo-like 1024x1024 images it saves
     * about 4x faster (0.22 s against 0.93 s here) for files ~10% larger,
     * and dataset generation writes thousands of them. */
    png_set_compression_level(c->png, 3);
    int ctype = img->channels == 1 ? PNG_COLOR_TYPE_GRAY
              : img->channels == 3 ? PNG_COLOR_TYPE_RGB
                                   : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_IHDR(c->png, c->info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 ctype, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(c->png, c->info);
    for (int32_t y = 0; y < img->height; y++)
        png_write_row(c->png, img->data + (size_t)y * img->stride);
    png_write_end(c->png, NULL);
    return AIGTATT_OK;

nomem:
    aigtatt_set_error("%s: out of memory encoding PNG", c->name);
    return AIGTATT_ERR_NOMEM;
}

int aigtatt_image_png_encode(const aigtatt_image *img, FILE *fp, const char *name)
{
    png_ctx c;
    memset(&c, 0, sizeof c);
    c.name = name;
    int st = png_encode_run(&c, img, fp);
    if (st != AIGTATT_OK && c.status != 0)
        aigtatt_set_error("%s: cannot write PNG: %s", name, c.msg);
    png_destroy_write_struct(&c.png, &c.info);
    return st;
}
