/* libFuzzer target for the core's image loaders (core/image/): PNG and
 * JPEG decoding through aigtatt_image_load_memory(), then channel
 * conversion and resizing of whatever decoded.
 *
 * The first byte of the input chooses the load options, the rest is the
 * file. The options cover every branch of the loader: channels 0/1/3/4, a
 * DCT-scaled JPEG decode (min_width/min_height), a tight scan limit and an
 * older, shorter options struct. One bit asks the target to rewrite the
 * CRC of every PNG chunk before loading: libpng rejects a chunk whose CRC
 * does not match, so without this nearly every mutation of a PNG would
 * stop at the first CRC check and never reach the decoder proper.
 * The pixel budget is small (256 K pixels) so that each input stays fast;
 * the limit checks themselves are then exercised all the time.
 *
 * Invariants checked (abort() makes libFuzzer keep the input):
 *   - success gives a well-formed image within the budget, failure gives
 *     NULL, and either way the error text names the input;
 *   - a failure carries a known status code and a non-empty message.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by
 * tests/fuzz/CMakeLists.txt, which also runs it for a bounded time. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "util/error.h"

#define FUZZ_NAME "fuzz-input"
#define FUZZ_MAX_PIXELS (512u * 512u)

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_image_load: invariant broken: %s (%s)\n", what, detail ? detail : "");
    abort();
}

/* CRC-32 as PNG uses it (ISO 3309, reflected 0xEDB88320). */
static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the chunks of a PNG in `buf` and rewrites each complete chunk's
 * CRC; stops at the first chunk that does not fit. */
static void png_fix_crcs(uint8_t *buf, size_t size)
{
    size_t off = 8;
    while (off + 12 <= size) {
        uint32_t len = be32(buf + off);
        if (len > size - off - 12)
            break;
        uint32_t c = crc32_png(buf + off + 4, (size_t)len + 4);
        uint8_t *q = buf + off + 8 + len;
        q[0] = (uint8_t)(c >> 24);
        q[1] = (uint8_t)(c >> 16);
        q[2] = (uint8_t)(c >> 8);
        q[3] = (uint8_t)c;
        off += (size_t)len + 12;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Loader failures are the normal case here; keep the log quiet. */
    aigtatt_log_set_level(AIGTATT_LOG_ERROR);
    crc_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const int channel_choice[4] = {0, 1, 3, 4};
    static const int32_t min_choice[4] = {0, 1, 17, 64};
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t sel = data[0];
    data++;
    size--;
    /* Bit 5: fix the CRCs of a PNG (in a copy: the input is read-only). */
    uint8_t *copy = NULL;
    if ((sel & 0x20) && size >= 8 && memcmp(data, png_magic, 8) == 0) {
        copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        png_fix_crcs(copy, size);
        data = copy;
    }

    aigtatt_image_load_opts o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.channels = channel_choice[sel & 3];
    o.max_pixels = FUZZ_MAX_PIXELS;
    o.min_width = min_choice[(sel >> 2) & 3];
    o.min_height = (sel & 0x10) ? 17 : 0;
    o.max_scans = (sel & 0x40) ? 3 : 0;
    /* Bit 7: an older, smaller options struct (only channels and budget). */
    if (sel & 0x80)
        o.struct_size = offsetof(aigtatt_image_load_opts, min_width);

    aigtatt_clear_error();
    aigtatt_image *img = (aigtatt_image *)0x1; /* must be overwritten */
    int st = aigtatt_image_load_memory(size ? data : NULL, size, FUZZ_NAME, &o, &img);
    free(copy);
    if (st != AIGTATT_OK) {
        if (img != NULL)
            fail("failed load left an image", aigtatt_last_error());
        if (st != AIGTATT_ERR_FORMAT && st != AIGTATT_ERR_LIMIT && st != AIGTATT_ERR_NOMEM &&
            st != AIGTATT_ERR_INVALID && st != AIGTATT_ERR_IO)
            fail("unknown status", aigtatt_last_error());
        if (strstr(aigtatt_last_error(), FUZZ_NAME) == NULL)
            fail("error text does not name the input", aigtatt_last_error());
        return 0;
    }
    if (!img || !img->data || img->width <= 0 || img->height <= 0)
        fail("success without a well-formed image", NULL);
    if (img->channels != 1 && img->channels != 3 && img->channels != 4)
        fail("bad channel count", NULL);
    if (o.channels && img->channels != o.channels)
        fail("channels not converted", NULL);
    if (img->stride < (size_t)img->width * (size_t)img->channels)
        fail("stride too small", NULL);
    if ((uint64_t)img->width * (uint64_t)img->height > FUZZ_MAX_PIXELS)
        fail("image over the pixel budget", NULL);

    /* Touch every pixel (ASan/MSan-style reads of the whole buffer) and run
     * the other image entry points on the result. */
    unsigned acc = 0;
    for (int32_t y = 0; y < img->height; y++)
        for (size_t x = 0; x < (size_t)img->width * (size_t)img->channels; x++)
            acc += img->data[(size_t)y * img->stride + x];
    int other = img->channels == 3 ? 4 : 3;
    aigtatt_image *conv = aigtatt_image_convert(img, other);
    if (!conv)
        fail("convert failed", aigtatt_last_error());
    int32_t rw = img->width / 3 + 1, rh = img->height / 2 + 1;
    aigtatt_image *small = aigtatt_image_resize(conv, rw, rh);
    if (!small || small->width != rw || small->height != rh)
        fail("resize failed", aigtatt_last_error());
    aigtatt_image_free(small);
    aigtatt_image_free(conv);
    aigtatt_image_free(img);
    return (int)(acc & 0); /* libFuzzer wants 0 */
}
