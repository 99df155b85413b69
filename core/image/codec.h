/* Internal to core/image: the PNG and JPEG codecs behind image.c. Not for
 * the rest of the core; use image.h. */
#ifndef AIGTATT_CORE_IMAGE_CODEC_H
#define AIGTATT_CORE_IMAGE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <aigtatt/types.h>

/** Load options after defaults were applied and values checked. */
typedef struct aigtatt_image_limits {
    uint64_t max_pixels; /* > 0 */
    int max_scans;       /* > 0 */
    int32_t min_width;   /* <= 0: no constraint */
    int32_t min_height;  /* <= 0: no constraint */
} aigtatt_image_limits;

/* Decoders: `name` goes at the head of every error message. On success
 * *out holds an 8-bit image with 1, 3 or 4 channels; on failure it is left
 * NULL and the error text is set. */
int aigtatt_image_png_decode(const uint8_t *data, size_t size, const char *name,
                             const aigtatt_image_limits *lim, aigtatt_image **out);
int aigtatt_image_jpeg_decode(const uint8_t *data, size_t size, const char *name,
                              const aigtatt_image_limits *lim, aigtatt_image **out);

/* Encoders write to `fp` (the caller flushes, syncs and closes it). `img`
 * was validated by the caller. Write failures give AIGTATT_ERR_IO. */
int aigtatt_image_png_encode(const aigtatt_image *img, FILE *fp, const char *name);
int aigtatt_image_jpeg_encode(const aigtatt_image *img, FILE *fp, int quality,
                              const char *name);

/** Non-zero if `img` is a well-formed image (sizes, channels, stride, data);
 *  otherwise sets an error starting with `what` and returns 0. */
int aigtatt_image_check(const aigtatt_image *img, const char *what);

#endif
