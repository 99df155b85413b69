/* Image objects, loading (format sniffing, limits, channel conversion) and
 * atomic saving. The codecs are in png_io.c and jpeg_io.c, resizing in
 * resize.c. */
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/codec.h"
#include "util/error.h"

static _Atomic uint64_t default_max_pixels = AIGTATT_IMAGE_DEFAULT_MAX_PIXELS;

void aigtatt_image_set_default_max_pixels(uint64_t n)
{
    atomic_store(&default_max_pixels, n ? n : AIGTATT_IMAGE_DEFAULT_MAX_PIXELS);
}

uint64_t aigtatt_image_default_max_pixels(void)
{
    return atomic_load(&default_max_pixels);
}

/* strerror() may share a static buffer between threads. */
static const char *errno_text(int e, char *buf, size_t size)
{
    if (strerror_r(e, buf, size) != 0)
        snprintf(buf, size, "error %d", e);
    return buf;
}

static aigtatt_image *image_alloc(int32_t w, int32_t h, int32_t channels, int zero)
{
    if (w <= 0 || h <= 0 || (channels != 1 && channels != 3 && channels != 4)) {
        aigtatt_set_error("invalid image size %dx%d with %d channels (want positive sizes "
                          "and 1, 3 or 4 channels)", (int)w, (int)h, (int)channels);
        return NULL;
    }
    size_t stride, bytes;
    if (__builtin_mul_overflow((size_t)w, (size_t)channels, &stride) ||
        __builtin_mul_overflow(stride, (size_t)h, &bytes) || bytes > PTRDIFF_MAX) {
        aigtatt_set_error("image size %dx%dx%d overflows memory", (int)w, (int)h, (int)channels);
        return NULL;
    }
    aigtatt_image *img = calloc(1, sizeof *img);
    if (!img)
        goto nomem;
    img->data = zero ? calloc(1, bytes) : malloc(bytes ? bytes : 1);
    if (!img->data)
        goto nomem;
    img->width = w;
    img->height = h;
    img->channels = channels;
    img->stride = stride;
    return img;

nomem:
    free(img);
    aigtatt_set_error("out of memory for a %dx%d image with %d channels (%zu bytes)", (int)w,
                      (int)h, (int)channels, bytes);
    return NULL;
}

aigtatt_image *aigtatt_image_new(int32_t w, int32_t h, int32_t channels) { return image_alloc(w, h, channels, 1); }

aigtatt_image *aigtatt_image_new_uninit(int32_t w, int32_t h, int32_t channels)
{
    return image_alloc(w, h, channels, 0);
}

void aigtatt_image_free(aigtatt_image *img)
{
    if (!img)
        return;
    free(img->data);
    free(img);
}

int aigtatt_image_check(const aigtatt_image *img, const char *what)
{
    if (!img) {
        aigtatt_set_error("%s: no image (NULL)", what);
        return 0;
    }
    if (img->width <= 0 || img->height <= 0 ||
        (img->channels != 1 && img->channels != 3 && img->channels != 4) || !img->data ||
        img->stride < (size_t)img->width * (size_t)img->channels) {
        aigtatt_set_error("%s: malformed image (%dx%d, %d channels, stride %zu)", what,
                          (int)img->width, (int)img->height, (int)img->channels, img->stride);
        return 0;
    }
    return 1;
}

/* ---- conversion ------------------------------------------------------ */

/* BT.601 luma with PIL's integer weights (they sum to 65536). */
static inline uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

aigtatt_image *aigtatt_image_convert(const aigtatt_image *img, int channels)
{
    if (!aigtatt_image_check(img, "image convert"))
        return NULL;
    if (channels != 1 && channels != 3 && channels != 4) {
        aigtatt_set_error("image convert: cannot convert to %d channels (want 1, 3 or 4)",
                          channels);
        return NULL;
    }
    aigtatt_image *out = aigtatt_image_new(img->width, img->height, channels);
    if (!out)
        return NULL;
    const int ci = img->channels;
    for (int32_t y = 0; y < img->height; y++) {
        const uint8_t *s = img->data + (size_t)y * img->stride;
        uint8_t *d = out->data + (size_t)y * out->stride;
        if (ci == channels) {
            memcpy(d, s, (size_t)img->width * (size_t)ci);
            continue;
        }
        for (int32_t x = 0; x < img->width; x++, s += ci, d += channels) {
            /* Alpha is dropped, never composited: see image.h. */
            unsigned r = s[0], g = ci == 1 ? s[0] : s[1], b = ci == 1 ? s[0] : s[2];
            if (channels == 1) {
                d[0] = ci == 1 ? s[0] : luma(r, g, b);
            } else {
                d[0] = (uint8_t)r;
                d[1] = (uint8_t)g;
                d[2] = (uint8_t)b;
                if (channels == 4)
                    d[3] = ci == 4 ? s[3] : 255;
            }
        }
    }
    return out;
}

aigtatt_image *aigtatt_image_flatten(const aigtatt_image *img, int channels)
{
    if (!aigtatt_image_check(img, "image flatten"))
        return NULL;
    if (img->channels != 4 || (channels != 1 && channels != 3)) {
        aigtatt_set_error("image flatten: %d channels to %d (want RGBA to 1 or 3)", (int)img->channels,
                          channels);
        return NULL;
    }
    aigtatt_image *out = aigtatt_image_new_uninit(img->width, img->height, channels);
    if (!out)
        return NULL;
    for (int32_t y = 0; y < img->height; y++) {
        const uint8_t *s = img->data + (size_t)y * img->stride;
        uint8_t *d = out->data + (size_t)y * out->stride;
        for (int32_t x = 0; x < img->width; x++, s += 4, d += channels) {
            unsigned a = s[3], c[3];
            for (int k = 0; k < 3; k++)
                c[k] = (s[k] * a + 255u * (255u - a) + 127u) / 255u;
            if (channels == 1) {
                d[0] = luma(c[0], c[1], c[2]);
            } else {
                d[0] = (uint8_t)c[0];
                d[1] = (uint8_t)c[1];
                d[2] = (uint8_t)c[2];
            }
        }
    }
    return out;
}

/* ---- loading --------------------------------------------------------- */

/* What the caller wants of the decoded pixels. */
typedef struct want {
    int channels;   /* 0: as stored */
    int over_white; /* RGBA to fewer channels: composite, not drop */
} want;

static int resolve_opts(const aigtatt_image_load_opts *opts, const char *name,
                        aigtatt_image_limits *lim, want *w)
{
    aigtatt_image_load_opts o;
    memset(&o, 0, sizeof o);
    if (opts) {
        if (opts->struct_size < offsetof(aigtatt_image_load_opts, channels) + sizeof(int)) {
            aigtatt_set_error("%s: image load options without struct_size (set it to "
                              "sizeof(aigtatt_image_load_opts))", name);
            return AIGTATT_ERR_INVALID;
        }
        /* An older plugin's shorter struct: its missing fields stay 0,
         * which means "default". */
        memcpy(&o, opts, opts->struct_size < sizeof o ? opts->struct_size : sizeof o);
    }
    if (o.channels != 0 && o.channels != 1 && o.channels != 3 && o.channels != 4) {
        aigtatt_set_error("%s: cannot load with %d channels (want 0, 1, 3 or 4)", name,
                          o.channels);
        return AIGTATT_ERR_INVALID;
    }
    if (o.min_width < 0 || o.min_height < 0 || o.max_scans < 0) {
        aigtatt_set_error("%s: negative image load option (min_width %d, min_height %d, "
                          "max_scans %d)", name, (int)o.min_width, (int)o.min_height,
                          o.max_scans);
        return AIGTATT_ERR_INVALID;
    }
    lim->max_pixels = o.max_pixels ? o.max_pixels : aigtatt_image_default_max_pixels();
    lim->max_scans = o.max_scans ? o.max_scans : AIGTATT_IMAGE_DEFAULT_MAX_SCANS;
    lim->min_width = o.min_width;
    lim->min_height = o.min_height;
    w->channels = o.channels;
    w->over_white = o.over_white != 0;
    return AIGTATT_OK;
}

/* Names what a file that is neither PNG nor JPEG seems to be, because
 * "not an image" is much less useful than "a WebP" or "an HTML page". */
static const char *sniff_other(const uint8_t *p, size_t n)
{
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return "a GIF image";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "a WebP image";
    if (n >= 12 && memcmp(p + 4, "ftyp", 4) == 0)
        return "an ISO media file (HEIC/AVIF?)";
    if (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0))
        return "a TIFF image";
    if (n >= 2 && p[0] == 'B' && p[1] == 'M')
        return "a BMP image";
    size_t i = 0;
    while (i < n && i < 64 && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < n && p[i] == '<')
        return "HTML or XML text (an error page?)";
    if (i < n && (p[i] == '{' || p[i] == '['))
        return "JSON text";
    return NULL;
}

static int decode_any(const uint8_t *data, size_t size, const char *name,
                      const aigtatt_image_limits *lim, want w, aigtatt_image **out)
{
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    aigtatt_image *img = NULL;
    int st;
    if (size == 0) {
        aigtatt_set_error("%s: empty file (0 bytes), not an image", name);
        return AIGTATT_ERR_FORMAT;
    }
    if (size >= 8 && memcmp(data, png_magic, 8) == 0) {
        st = aigtatt_image_png_decode(data, size, name, lim, &img);
    } else if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
        st = aigtatt_image_jpeg_decode(data, size, name, lim, &img);
    } else {
        const char *what = sniff_other(data, size);
        if (what)
            aigtatt_set_error("%s: %s, not a PNG or JPEG image", name, what);
        else
            aigtatt_set_error("%s: not a PNG or JPEG image (unknown format, %zu bytes)", name,
                              size);
        return AIGTATT_ERR_FORMAT;
    }
    if (st != AIGTATT_OK)
        return st;
    if (w.channels != 0 && w.channels != img->channels) {
        aigtatt_image *conv = w.over_white && img->channels == 4 && w.channels < 4
                                  ? aigtatt_image_flatten(img, w.channels)
                                  : aigtatt_image_convert(img, w.channels);
        aigtatt_image_free(img);
        if (!conv) {
            aigtatt_error_prefix("%s", name);
            return AIGTATT_ERR_NOMEM;
        }
        img = conv;
    }
    *out = img;
    return AIGTATT_OK;
}

/* The largest file worth reading for a budget of `max_pixels`: even an
 * uncompressed 16-bit RGBA PNG needs no more than 8 bytes a pixel; the
 * slack covers metadata. Saturates instead of overflowing. */
static size_t file_cap(uint64_t max_pixels)
{
    const uint64_t slack = UINT64_C(64) << 20;
    uint64_t cap = max_pixels > (UINT64_MAX - slack) / 8 ? UINT64_MAX : max_pixels * 8 + slack;
    return cap > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)cap;
}

int aigtatt_image_load_memory(const void *data, size_t size, const char *name,
                              const aigtatt_image_load_opts *opts, aigtatt_image **out)
{
    if (!name)
        name = "<memory>";
    if (!out) {
        aigtatt_set_error("%s: image load without a place for the result", name);
        return AIGTATT_ERR_INVALID;
    }
    *out = NULL;
    if (!data && size) {
        aigtatt_set_error("%s: image load from NULL data", name);
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_image_limits lim;
    want w;
    int st = resolve_opts(opts, name, &lim, &w);
    if (st != AIGTATT_OK)
        return st;
    if (size > file_cap(lim.max_pixels)) {
        aigtatt_set_error("%s: %zu bytes, too large for the pixel limit", name, size);
        return AIGTATT_ERR_LIMIT;
    }
    return decode_any(data, size, name, &lim, w, out);
}

static int read_file(const char *path, size_t cap, uint8_t **out, size_t *out_size)
{
    char eb[128];
    uint8_t *buf = NULL;
    size_t len = 0;
    int st;
    /* O_NONBLOCK: a named pipe with no writer would block the open itself
     * before the check below could refuse it */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        aigtatt_set_error("%s: cannot open: %s", path, errno_text(errno, eb, sizeof eb));
        return AIGTATT_ERR_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        aigtatt_set_error("%s: cannot stat: %s", path, errno_text(errno, eb, sizeof eb));
        st = AIGTATT_ERR_IO;
        goto fail;
    }
    if (S_ISDIR(sb.st_mode)) {
        aigtatt_set_error("%s: is a folder, not an image file", path);
        st = AIGTATT_ERR_IO;
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        aigtatt_set_error("%s: is not a regular file (a pipe, socket or device)", path);
        st = AIGTATT_ERR_IO;
        goto fail;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > cap)
        goto too_big;
    /* The size from fstat is only a hint (the file may change, or not be
     * regular), so read until EOF, growing as needed. */
    size_t capacity = S_ISREG(sb.st_mode) ? (size_t)sb.st_size + 1 : 65536;
    buf = malloc(capacity);
    if (!buf)
        goto nomem;
    for (;;) {
        if (len == capacity) {
            if (capacity > cap)
                goto too_big;
            size_t nc = capacity > cap / 2 ? cap + 1 : capacity * 2;
            uint8_t *nb = realloc(buf, nc);
            if (!nb)
                goto nomem;
            buf = nb;
            capacity = nc;
        }
        ssize_t n = read(fd, buf + len, capacity - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            aigtatt_set_error("%s: read failed: %s", path, errno_text(errno, eb, sizeof eb));
            st = AIGTATT_ERR_IO;
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > cap)
        goto too_big;
    close(fd);
    *out = buf;
    *out_size = len;
    return AIGTATT_OK;

too_big:
    aigtatt_set_error("%s: file is larger than %zu bytes, too large for the pixel limit",
                      path, cap);
    st = AIGTATT_ERR_LIMIT;
    goto fail;
nomem:
    aigtatt_set_error("%s: out of memory reading the file", path);
    st = AIGTATT_ERR_NOMEM;
fail:
    free(buf);
    close(fd);
    return st;
}

int aigtatt_image_load(const char *path, const aigtatt_image_load_opts *opts,
                       aigtatt_image **out)
{
    if (!out) {
        aigtatt_set_error("%s: image load without a place for the result",
                          path ? path : "(null)");
        return AIGTATT_ERR_INVALID;
    }
    *out = NULL;
    if (!path || !*path) {
        aigtatt_set_error("image load: no path given");
        return AIGTATT_ERR_INVALID;
    }
    aigtatt_image_limits lim;
    want w;
    int st = resolve_opts(opts, path, &lim, &w);
    if (st != AIGTATT_OK)
        return st;
    uint8_t *data = NULL;
    size_t size = 0;
    st = read_file(path, file_cap(lim.max_pixels), &data, &size);
    if (st != AIGTATT_OK)
        return st;
    st = decode_any(data, size, path, &lim, w, out);
    free(data);
    return st;
}

/* ---- saving ---------------------------------------------------------- */

enum { FMT_PNG = 1, FMT_JPEG = 2 };

static int format_from_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (!dot)
        return 0;
    if (strcasecmp(dot, ".png") == 0)
        return FMT_PNG;
    if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
        return FMT_JPEG;
    return 0;
}

/* After rename(), the new directory entry is durable only once the folder
 * itself is synced. Best effort: some file systems refuse, and the data is
 * already complete under its final name either way. */
static void sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int aigtatt_image_save(const aigtatt_image *img, const char *path, int quality)
{
    static atomic_uint tmp_counter;
    char eb[128];
    char *tmp = NULL;
    FILE *fp = NULL;
    int fd = -1;
    int st;

    if (!path || !*path) {
        aigtatt_set_error("image save: no path given");
        return AIGTATT_ERR_INVALID;
    }
    if (!aigtatt_image_check(img, path))
        return AIGTATT_ERR_INVALID;
    int fmt = format_from_path(path);
    if (!fmt) {
        aigtatt_set_error("%s: cannot tell the image format from the name (use .png, .jpg "
                          "or .jpeg)", path);
        return AIGTATT_ERR_INVALID;
    }
    if (fmt == FMT_JPEG) {
        if (quality == 0)
            quality = AIGTATT_IMAGE_DEFAULT_QUALITY;
        if (quality < 1 || quality > 100) {
            aigtatt_set_error("%s: JPEG quality must be between 1 and 100, got %d", path,
                              quality);
            return AIGTATT_ERR_INVALID;
        }
    }

    /* The temporary name is unique per process and call; O_EXCL makes sure
     * we never write into someone else's file. Unlike mkstemp (mode 0600)
     * this creates the file with 0666 minus the umask, like any other
     * output. */
    size_t tmp_size = strlen(path) + 64;
    tmp = malloc(tmp_size);
    if (!tmp) {
        aigtatt_set_error("%s: out of memory", path);
        return AIGTATT_ERR_NOMEM;
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp, tmp_size, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&tmp_counter, 1u));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        aigtatt_set_error("%s: cannot create a temporary file next to it: %s", path,
                          errno_text(errno, eb, sizeof eb));
        free(tmp);
        return AIGTATT_ERR_IO;
    }
    fp = fdopen(fd, "wb");
    if (!fp) {
        aigtatt_set_error("%s: cannot write: %s", path, errno_text(errno, eb, sizeof eb));
        close(fd);
        st = AIGTATT_ERR_IO;
        goto fail;
    }

    st = fmt == FMT_PNG ? aigtatt_image_png_encode(img, fp, path)
                        : aigtatt_image_jpeg_encode(img, fp, quality, path);
    if (st != AIGTATT_OK)
        goto fail;
    if (fflush(fp) != 0 || ferror(fp)) {
        aigtatt_set_error("%s: cannot write: %s", path, errno_text(errno, eb, sizeof eb));
        st = AIGTATT_ERR_IO;
        goto fail;
    }
    /* Data on disk before the rename, or a crash could leave a complete
     * name with incomplete contents. EINVAL: the file system cannot sync
     * (e.g. some FUSE mounts); nothing more we can do there. */
    if (fsync(fileno(fp)) != 0 && errno != EINVAL) {
        aigtatt_set_error("%s: cannot sync: %s", path, errno_text(errno, eb, sizeof eb));
        st = AIGTATT_ERR_IO;
        goto fail;
    }
    int rc = fclose(fp);
    fp = NULL;
    if (rc != 0) {
        aigtatt_set_error("%s: cannot write: %s", path, errno_text(errno, eb, sizeof eb));
        st = AIGTATT_ERR_IO;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        aigtatt_set_error("%s: cannot rename the finished file into place: %s", path,
                          errno_text(errno, eb, sizeof eb));
        st = AIGTATT_ERR_IO;
        goto fail;
    }
    sync_parent(path);
    free(tmp);
    return AIGTATT_OK;

fail:
    if (fp)
        fclose(fp);
    unlink(tmp);
    free(tmp);
    return st;
}
