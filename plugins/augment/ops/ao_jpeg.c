/* augment.jpeg: JPEG re-compression in memory with libjpeg(-turbo), the
 * artefacts of photos passed through messengers and social networks. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "ao.h"

typedef struct ao_jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} ao_jerr;

/* libjpeg's default handler exits the process; a plugin must not. */
static void on_error(j_common_ptr cinfo)
{
    ao_jerr *e = (ao_jerr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo) { (void)cinfo; }

/* Encodes the colour channels of `in` at `quality`, decodes them back into
 * `o` (same size; a fourth channel is copied over untouched). */
static int roundtrip(const aigtatt_image *in, int quality, aigtatt_image *o)
{
    const int c = in->channels, cc = c == 1 ? 1 : 3;
    /* The compressed data go to a buffer of about the size a photo needs
     * at high quality (libjpeg's memory destination starts at 4 KiB and
     * doubles, copying, until it fits); a larger stream still grows it,
     * into a buffer of libjpeg's, which replaces `mem`. */
    unsigned long mem_size = (unsigned long)in->width * (unsigned long)in->height * (unsigned long)cc / 2 + 65536;
    unsigned char *volatile own = malloc(mem_size), *volatile mem = own;
    uint8_t *volatile row = malloc((size_t)in->width * (size_t)cc);
    /* Row pointers for passing many rows a call when the rows need no
     * repacking (grey and RGB). */
    JSAMPROW *volatile rows = malloc((size_t)in->height * sizeof *rows);
    struct jpeg_compress_struct cinfo;
    struct jpeg_decompress_struct dinfo;
    ao_jerr err;
    volatile int have_c = 0, have_d = 0;
    if (!row || !own || !rows) {
        free(row);
        free(own);
        free(rows);
        ao_host->set_error("out of memory");
        return AIGTATT_ERR_NOMEM;
    }
    memset(&cinfo, 0, sizeof cinfo);
    memset(&dinfo, 0, sizeof dinfo);
    cinfo.err = jpeg_std_error(&err.mgr);
    dinfo.err = cinfo.err;
    err.mgr.error_exit = on_error;
    err.mgr.output_message = on_message;
    if (setjmp(err.jump)) {
        if (have_c)
            jpeg_destroy_compress(&cinfo);
        if (have_d)
            jpeg_destroy_decompress(&dinfo);
        if (mem != own)
            free(mem);
        free(own);
        free(row);
        free(rows);
        ao_host->set_error("JPEG re-compression failed: %s", err.msg);
        return AIGTATT_ERR;
    }
    jpeg_create_compress(&cinfo);
    have_c = 1;
    jpeg_mem_dest(&cinfo, (unsigned char **)&mem, &mem_size);
    cinfo.image_width = (JDIMENSION)in->width;
    cinfo.image_height = (JDIMENSION)in->height;
    cinfo.input_components = cc;
    cinfo.in_color_space = cc == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    if (c == cc) {
        /* Grey and RGB rows go to libjpeg as they are, all in one call. */
        for (int y = 0; y < in->height; y++)
            rows[y] = ao_px(in, 0, y);
        while (cinfo.next_scanline < cinfo.image_height)
            jpeg_write_scanlines(&cinfo, rows + cinfo.next_scanline, cinfo.image_height - cinfo.next_scanline);
    }
    while (cinfo.next_scanline < cinfo.image_height) {
        /* RGBA loses alpha. */
        uint8_t *s = ao_px(in, 0, (int)cinfo.next_scanline);
        JSAMPROW r = s;
        if (c != cc) {
            for (int x = 0; x < in->width; x++) {
                row[(size_t)x * 3] = s[(size_t)x * 4];
                row[(size_t)x * 3 + 1] = s[(size_t)x * 4 + 1];
                row[(size_t)x * 3 + 2] = s[(size_t)x * 4 + 2];
            }
            r = row;
        }
        jpeg_write_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    have_c = 0;

    jpeg_create_decompress(&dinfo);
    have_d = 1;
    jpeg_mem_src(&dinfo, mem, mem_size);
    jpeg_read_header(&dinfo, TRUE);
    dinfo.out_color_space = cc == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&dinfo);
    if (c == cc) { /* decode straight into the output, as many rows a call as libjpeg gives */
        for (int y = 0; y < in->height; y++)
            rows[y] = ao_px(o, 0, y);
        while (dinfo.output_scanline < dinfo.output_height)
            jpeg_read_scanlines(&dinfo, rows + dinfo.output_scanline, dinfo.output_height - dinfo.output_scanline);
    }
    while (dinfo.output_scanline < dinfo.output_height) {
        int y = (int)dinfo.output_scanline;
        uint8_t *d = ao_px(o, 0, y);
        JSAMPROW r = row;
        jpeg_read_scanlines(&dinfo, &r, 1);
        const uint8_t *s = ao_px(in, 0, y);
        for (int x = 0; x < in->width; x++) {
            memcpy(d + (size_t)x * 4, row + (size_t)x * 3, 3);
            d[(size_t)x * 4 + 3] = s[(size_t)x * 4 + 3];
        }
    }
    jpeg_finish_decompress(&dinfo);
    jpeg_destroy_decompress(&dinfo);
    have_d = 0;
    if (mem != own)
        free(mem);
    free(own);
    free(row);
    free(rows);
    return AIGTATT_OK;
}

static int jpeg_check(const aigtatt_params *p) { return ao_check_range(p, "min_quality", "max_quality"); }

static int jpeg_apply(const aigtatt_params *p, aigtatt_rng *rng, const aigtatt_image *in, aigtatt_image **out,
                      char *js, size_t jn)
{
    int q = (int)ao_int(rng, AO_I(p, "min_quality"), AO_I(p, "max_quality"));
    ao_json j;
    ao_json_begin(&j, js, jn);
    ao_json_int(&j, "quality", q);
    int rc = ao_json_end(&j);
    if (rc)
        return rc;
    aigtatt_image *o = ao_new_uninit_like(in);
    if (!o)
        return AIGTATT_ERR_NOMEM;
    rc = roundtrip(in, q, o);
    if (rc) {
        ao_host->image_free(o);
        return rc;
    }
    *out = o;
    return AIGTATT_OK;
}

static const aigtatt_param_desc jpeg_params[] = {
    AO_INT("min_quality", "30", 1, 100, "Lowest JPEG quality."),
    AO_INT("max_quality", "90", 1, 100, "Highest JPEG quality; an integer uniform in [min_quality, max_quality]."),
    AO_END};

AO_DEFINE_OP(jpeg, "JPEG re-compression artefacts",
             "Encodes and decodes in memory with libjpeg-turbo (4:2:0 chroma), leaving block and ringing "
             "artefacts. Samples `quality`.",
             jpeg_params, jpeg_check, jpeg_apply);
