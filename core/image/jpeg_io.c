/* JPEG decoding and encoding with libjpeg(-turbo).
 *
 * libjpeg's error_exit must not return; ours records the message and
 * longjmps back to the setjmp in the *_run function. As in png_io.c, all
 * state that changes after setjmp (the libjpeg struct itself, the image,
 * scratch rows) lives in a context owned by the caller of *_run, so no
 * local of the function that called setjmp is read after the jump, and the
 * caller releases everything whichever way *_run returned.
 *
 * libjpeg only *warns* about corrupt data ("premature end of data
 * segment", "Premature end of JPEG file") and fills the rest with grey.
 * For training data a silently half-grey image is worse than an error, so
 * emit_message turns warnings into errors. */
#include "image/codec.h"

#include <jerror.h>
#include <jpeglib.h>
#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/error.h"

/* The error manager comes first so that cinfo->err leads back to it. */
typedef struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    const char *name;
    int writing;       /* encoder: a failed write is an I/O error */
    int status;        /* what the longjmp means; 0 until an error */
    char msg[JMSG_LENGTH_MAX + 64];
} jpeg_err;

typedef struct jpeg_dec {
    jpeg_err err;
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress;
    int max_scans;
    aigtatt_image *img;
    uint8_t *row;      /* CMYK scanline before conversion to RGB */
} jpeg_dec;

typedef struct jpeg_enc {
    jpeg_err err;
    struct jpeg_compress_struct cinfo;
    uint8_t *row;      /* RGB scanline when the image is RGBA */
} jpeg_enc;

static void fail_jump(jpeg_err *e, int status, const char *fmt, const char *text)
{
    if (e->status == 0) {
        e->status = status;
        snprintf(e->msg, sizeof e->msg, fmt, text);
    }
    longjmp(e->jump, 1);
}

static void on_error_exit(j_common_ptr cinfo)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    int status = AIGTATT_ERR_FORMAT;
    if (e->writing)
        status = cinfo->err->msg_code == JERR_FILE_WRITE ? AIGTATT_ERR_IO : AIGTATT_ERR;
    else if (cinfo->err->msg_code == JERR_OUT_OF_MEMORY)
        status = AIGTATT_ERR_NOMEM;
    fail_jump(e, status, "%s", text);
}

static void on_output_message(j_common_ptr cinfo)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    aigtatt_log(AIGTATT_LOG_DEBUG, "%s: libjpeg: %s", e->name, text);
}

static void on_emit_message(j_common_ptr cinfo, int msg_level)
{
    struct jpeg_error_mgr *err = cinfo->err;
    if (msg_level >= 0) {
        /* Trace messages: only when someone raised trace_level. */
        if (err->trace_level >= msg_level)
            (*err->output_message)(cinfo);
        return;
    }
    err->num_warnings++;
    /* A JFIF version we do not know says nothing about the pixels. Every
     * other warning means corrupt or missing data. */
    if (err->msg_code == JWRN_JFIF_MAJOR) {
        (*err->output_message)(cinfo);
        return;
    }
    char text[JMSG_LENGTH_MAX];
    (*err->format_message)(cinfo, text);
    fail_jump((jpeg_err *)err, AIGTATT_ERR_FORMAT, "%s", text);
}

/* libjpeg calls this before each chunk of input it absorbs, so a file
 * with thousands of tiny progressive scans is stopped as soon as it
 * passes the limit instead of costing a full-image pass per scan. */
static void on_progress(j_common_ptr cinfo)
{
    if (!cinfo->is_decompressor)
        return;
    jpeg_dec *d = (jpeg_dec *)cinfo->client_data;
    int scans = ((j_decompress_ptr)cinfo)->input_scan_number;
    if (scans > d->max_scans) {
        char text[64];
        snprintf(text, sizeof text, "%d", d->max_scans);
        fail_jump(&d->err, AIGTATT_ERR_LIMIT, "JPEG has more than %s scans", text);
    }
}

static void init_err(jpeg_err *e, const char *name, int writing)
{
    jpeg_std_error(&e->pub);
    e->pub.error_exit = on_error_exit;
    e->pub.output_message = on_output_message;
    e->pub.emit_message = on_emit_message;
    e->name = name;
    e->writing = writing;
}

static unsigned scaled(JDIMENSION size, unsigned denom)
{
    return (unsigned)(((unsigned long)size + denom - 1) / denom);
}

/* Adobe (Photoshop) writes CMYK inverted (0 = full ink), and libjpeg
 * writes an Adobe marker with every CMYK/YCCK file; without the marker the
 * values are taken as plain ink amounts. */
static void cmyk_to_rgb(uint8_t *dst, const uint8_t *src, JDIMENSION w, int inverted)
{
    for (JDIMENSION x = 0; x < w; x++, src += 4, dst += 3) {
        unsigned c = src[0], m = src[1], y = src[2], k = src[3];
        if (!inverted) {
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        dst[0] = (uint8_t)((c * k + 127) / 255);
        dst[1] = (uint8_t)((m * k + 127) / 255);
        dst[2] = (uint8_t)((y * k + 127) / 255);
    }
}

static int jpeg_decode_run(jpeg_dec *d, const uint8_t *data, size_t size,
                           const aigtatt_image_limits *lim)
{
    j_decompress_ptr cinfo = &d->cinfo;
    init_err(&d->err, d->err.name, 0);
    cinfo->err = &d->err.pub;
    cinfo->client_data = d;
    if (setjmp(d->err.jump))
        return d->err.status ? d->err.status : AIGTATT_ERR_FORMAT;

    jpeg_create_decompress(cinfo);
    d->progress.progress_monitor = on_progress;
    cinfo->progress = &d->progress;
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    (void)jpeg_read_header(cinfo, TRUE);

    uint64_t pixels = (uint64_t)cinfo->image_width * cinfo->image_height;
    if (pixels > lim->max_pixels) {
        aigtatt_set_error("%s: image is %ux%u (%llu pixels), over the limit of %llu pixels",
                          d->err.name, (unsigned)cinfo->image_width,
                          (unsigned)cinfo->image_height, (unsigned long long)pixels,
                          (unsigned long long)lim->max_pixels);
        return AIGTATT_ERR_LIMIT;
    }

    int cmyk = 0;
    int channels;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo->out_color_space = JCS_GRAYSCALE;
        channels = 1;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo->out_color_space = JCS_RGB;
        channels = 3;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        /* libjpeg turns YCCK into CMYK; we finish the way to RGB. */
        cinfo->out_color_space = JCS_CMYK;
        channels = 3;
        cmyk = 1;
        break;
    default:
        aigtatt_set_error("%s: unsupported JPEG colour space (%d components)", d->err.name,
                          cinfo->num_components);
        return AIGTATT_ERR_FORMAT;
    }

    /* DCT scaling: decoding at 1/2, 1/4 or 1/8 skips most of the inverse
     * DCT work, the cheapest way to get a large photo down to training
     * size. Take the smallest scale still covering the requested minimum. */
    if (lim->min_width > 0 || lim->min_height > 0) {
        static const unsigned denoms[] = {8, 4, 2};
        for (size_t i = 0; i < sizeof denoms / sizeof denoms[0]; i++) {
            unsigned sw = scaled(cinfo->image_width, denoms[i]);
            unsigned sh = scaled(cinfo->image_height, denoms[i]);
            if ((lim->min_width <= 0 || sw >= (unsigned)lim->min_width) &&
                (lim->min_height <= 0 || sh >= (unsigned)lim->min_height)) {
                cinfo->scale_num = 1;
                cinfo->scale_denom = denoms[i];
                break;
            }
        }
    }

    (void)jpeg_start_decompress(cinfo);
    /* The progress hook stops a runaway file early; this catches a last
     * scan that arrived just before EOI. */
    if (cinfo->input_scan_number > d->max_scans) {
        aigtatt_set_error("%s: JPEG has more than %d scans", d->err.name, d->max_scans);
        return AIGTATT_ERR_LIMIT;
    }
    if (cinfo->output_components != (cmyk ? 4 : channels) || cinfo->output_width == 0 ||
        cinfo->output_height == 0 || cinfo->output_width > INT32_MAX ||
        cinfo->output_height > INT32_MAX) {
        aigtatt_set_error("%s: unexpected JPEG output layout (%d components, %ux%u)",
                          d->err.name, cinfo->output_components,
                          (unsigned)cinfo->output_width, (unsigned)cinfo->output_height);
        return AIGTATT_ERR_FORMAT;
    }

    d->img = aigtatt_image_new((int32_t)cinfo->output_width, (int32_t)cinfo->output_height,
                               channels);
    if (!d->img) {
        aigtatt_error_prefix("%s", d->err.name);
        return AIGTATT_ERR_NOMEM;
    }
    if (cmyk) {
        d->row = malloc((size_t)cinfo->output_width * 4);
        if (!d->row) {
            aigtatt_set_error("%s: out of memory decoding JPEG", d->err.name);
            return AIGTATT_ERR_NOMEM;
        }
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *dst = d->img->data + (size_t)cinfo->output_scanline * d->img->stride;
        JSAMPROW row = cmyk ? d->row : dst;
        /* The memory source never suspends, so 0 rows cannot happen;
         * guard anyway rather than spin. */
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
            aigtatt_set_error("%s: JPEG decoder returned no data", d->err.name);
            return AIGTATT_ERR_FORMAT;
        }
        if (cmyk)
            cmyk_to_rgb(dst, d->row, cinfo->output_width, cinfo->saw_Adobe_marker);
    }
    /* Reads on to EOI: a file cut after the last scan's data warns
     * "Premature end of JPEG file", which fails the load. */
    (void)jpeg_finish_decompress(cinfo);
    return AIGTATT_OK;
}

int aigtatt_image_jpeg_decode(const uint8_t *data, size_t size, const char *name,
                              const aigtatt_image_limits *lim, aigtatt_image **out)
{
    *out = NULL;
    if (size > ULONG_MAX) {
        aigtatt_set_error("%s: JPEG data too large", name);
        return AIGTATT_ERR_LIMIT;
    }
    jpeg_dec *d = calloc(1, sizeof *d);
    if (!d) {
        aigtatt_set_error("%s: out of memory decoding JPEG", name);
        return AIGTATT_ERR_NOMEM;
    }
    d->err.name = name;
    d->max_scans = lim->max_scans;

    int st = jpeg_decode_run(d, data, size, lim);
    if (st != AIGTATT_OK && d->err.status != 0) {
        switch (d->err.status) {
        case AIGTATT_ERR_LIMIT:
            aigtatt_set_error("%s: %s", name, d->err.msg);
            break;
        case AIGTATT_ERR_NOMEM:
            aigtatt_set_error("%s: out of memory decoding JPEG: %s", name, d->err.msg);
            break;
        default:
            aigtatt_set_error("%s: corrupt or truncated JPEG: %s", name, d->err.msg);
            break;
        }
    }
    /* Safe in any state, including a failed jpeg_create_decompress (the
     * context was zeroed, so cinfo.mem is NULL until it succeeds). */
    jpeg_destroy_decompress(&d->cinfo);
    free(d->row);
    if (st == AIGTATT_OK)
        *out = d->img;
    else
        aigtatt_image_free(d->img);
    free(d);
    return st;
}

static int jpeg_encode_run(jpeg_enc *e, const aigtatt_image *img, FILE *fp, int quality)
{
    j_compress_ptr cinfo = &e->cinfo;
    init_err(&e->err, e->err.name, 1);
    cinfo->err = &e->err.pub;
    cinfo->client_data = e;
    if (setjmp(e->err.jump))
        return e->err.status ? e->err.status : AIGTATT_ERR;

    jpeg_create_compress(cinfo);
    jpeg_stdio_dest(cinfo, fp);
    cinfo->image_width = (JDIMENSION)img->width;
    cinfo->image_height = (JDIMENSION)img->height;
    cinfo->input_components = img->channels == 1 ? 1 : 3;
    cinfo->in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    /* Defaults: JFIF header, YCbCr with 2x2 chroma subsampling (4:2:0),
     * integer DCT; all deterministic. */
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality, TRUE);
    cinfo->optimize_coding = TRUE;
    if (img->channels == 4) {
        e->row = malloc((size_t)img->width * 3);
        if (!e->row) {
            aigtatt_set_error("%s: out of memory encoding JPEG", e->err.name);
            return AIGTATT_ERR_NOMEM;
        }
    }
    jpeg_start_compress(cinfo, TRUE);
    while (cinfo->next_scanline < cinfo->image_height) {
        const uint8_t *src = img->data + (size_t)cinfo->next_scanline * img->stride;
        JSAMPROW row;
        if (img->channels == 4) {
            /* JPEG has no alpha: drop it, as aigtatt_image_convert does. */
            for (int32_t x = 0; x < img->width; x++) {
                e->row[3 * x + 0] = src[4 * x + 0];
                e->row[3 * x + 1] = src[4 * x + 1];
                e->row[3 * x + 2] = src[4 * x + 2];
            }
            row = e->row;
        } else {
            /* libjpeg's API takes non-const rows but only reads them. */
            row = (JSAMPROW)(uintptr_t)src;
        }
        (void)jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    return AIGTATT_OK;
}

int aigtatt_image_jpeg_encode(const aigtatt_image *img, FILE *fp, int quality,
                              const char *name)
{
    jpeg_enc *e = calloc(1, sizeof *e);
    if (!e) {
        aigtatt_set_error("%s: out of memory encoding JPEG", name);
        return AIGTATT_ERR_NOMEM;
    }
    e->err.name = name;
    int st = jpeg_encode_run(e, img, fp, quality);
    if (st != AIGTATT_OK && e->err.status != 0)
        aigtatt_set_error("%s: cannot write JPEG: %s", name, e->err.msg);
    jpeg_destroy_compress(&e->cinfo);
    free(e->row);
    free(e);
    return st;
}
