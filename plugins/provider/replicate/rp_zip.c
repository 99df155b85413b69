/* A small ZIP writer for the training images: local headers, stored or
 * raw-deflated data (zlib), the central directory and its end record.
 * Names are UTF-8 (flag bit 11) and timestamps fixed at 1980-01-01, so the
 * same images always give the same archive (and the same upload hash). No
 * ZIP64: at most 65535 files and 4 GiB, far above what a training takes. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "rp.h"

#define ZIP_DOS_DATE 0x0021 /* 1980-01-01 */
#define ZIP_DOS_TIME 0x0000

static int grow(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 4096;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -1;
        c *= 2;
    }
    unsigned char *p = realloc(*buf, c);
    if (!p)
        return -1;
    *buf = p;
    *cap = c;
    return 0;
}

static void le16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Raw deflate of data; NULL when it does not shrink or fails. */
static unsigned char *deflate_raw(const void *data, size_t len, size_t *out_len)
{
    if (len < 64 || len > 0xFFFFFFFFu)
        return NULL;
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong bound = deflateBound(&s, (uLong)len);
    unsigned char *o = malloc(bound);
    if (!o) {
        deflateEnd(&s);
        return NULL;
    }
    s.next_in = (Bytef *)data;
    s.avail_in = (uInt)len;
    s.next_out = o;
    s.avail_out = (uInt)bound;
    int r = deflate(&s, Z_FINISH);
    size_t n = s.total_out;
    deflateEnd(&s);
    if (r != Z_STREAM_END || n >= len) {
        free(o);
        return NULL;
    }
    *out_len = n;
    return o;
}

int rp_zip_add(rp_zip *z, const char *name, const void *data, size_t len)
{
    size_t nlen = strlen(name);
    if (z->failed || nlen == 0 || nlen > 0xFFFF || len > 0xFFFFFFFEu || z->count >= 0xFFFF) {
        z->failed = 1;
        pv_host->set_error("zip: '%s' cannot be added (name, size or count over the ZIP limits)", name);
        return AIGTATT_ERR_LIMIT;
    }
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    /* crc32 takes uInt lengths: feed it in pieces */
    const unsigned char *p = data;
    for (size_t off = 0; off < len;) {
        size_t step = len - off > 0x40000000u ? 0x40000000u : len - off;
        crc = (uint32_t)crc32(crc, p + off, (uInt)step);
        off += step;
    }
    size_t clen = len;
    unsigned char *comp = deflate_raw(data, len, &clen);
    unsigned method = comp ? 8 : 0;
    if (!comp)
        clen = len;
    size_t offset = z->len;
    if (offset > 0xFFFFFFFFu - 30 - nlen - clen || grow(&z->data, &z->cap, z->len + 30 + nlen + clen) ||
        grow(&z->cd, &z->cd_cap, z->cd_len + 46 + nlen)) {
        free(comp);
        z->failed = 1;
        pv_host->set_error("zip: out of memory or over 4 GiB");
        return AIGTATT_ERR_LIMIT;
    }
    unsigned char *h = z->data + z->len;
    le32(h, 0x04034b50);
    le16(h + 4, 20);
    le16(h + 6, 0x0800);
    le16(h + 8, method);
    le16(h + 10, ZIP_DOS_TIME);
    le16(h + 12, ZIP_DOS_DATE);
    le32(h + 14, crc);
    le32(h + 18, (uint32_t)clen);
    le32(h + 22, (uint32_t)len);
    le16(h + 26, (unsigned)nlen);
    le16(h + 28, 0);
    memcpy(h + 30, name, nlen);
    memcpy(h + 30 + nlen, comp ? comp : data, clen);
    z->len += 30 + nlen + clen;
    free(comp);

    unsigned char *c = z->cd + z->cd_len;
    le32(c, 0x02014b50);
    le16(c + 4, 0x0314); /* made by: Unix, 2.0 */
    le16(c + 6, 20);
    le16(c + 8, 0x0800);
    le16(c + 10, method);
    le16(c + 12, ZIP_DOS_TIME);
    le16(c + 14, ZIP_DOS_DATE);
    le32(c + 16, crc);
    le32(c + 20, (uint32_t)clen);
    le32(c + 24, (uint32_t)len);
    le16(c + 28, (unsigned)nlen);
    le16(c + 30, 0);
    le16(c + 32, 0);
    le16(c + 34, 0);
    le16(c + 36, 0);
    le32(c + 38, (uint32_t)0100644 << 16); /* -rw-r--r-- */
    le32(c + 42, (uint32_t)offset);
    memcpy(c + 46, name, nlen);
    z->cd_len += 46 + nlen;
    z->count++;
    return AIGTATT_OK;
}

int rp_zip_finish(rp_zip *z)
{
    if (z->failed)
        return AIGTATT_ERR_LIMIT;
    size_t cd_off = z->len;
    if (cd_off > 0xFFFFFFFFu - z->cd_len - 22 || grow(&z->data, &z->cap, z->len + z->cd_len + 22)) {
        pv_host->set_error("zip: out of memory or over 4 GiB");
        return AIGTATT_ERR_LIMIT;
    }
    if (z->cd_len)
        memcpy(z->data + z->len, z->cd, z->cd_len);
    z->len += z->cd_len;
    unsigned char *e = z->data + z->len;
    le32(e, 0x06054b50);
    le16(e + 4, 0);
    le16(e + 6, 0);
    le16(e + 8, (unsigned)z->count);
    le16(e + 10, (unsigned)z->count);
    le32(e + 12, (uint32_t)z->cd_len);
    le32(e + 16, (uint32_t)cd_off);
    le16(e + 20, 0);
    z->len += 22;
    return AIGTATT_OK;
}

void rp_zip_free(rp_zip *z)
{
    free(z->data);
    free(z->cd);
    memset(z, 0, sizeof *z);
}
