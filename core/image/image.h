/* Image I/O for the core: PNG and JPEG decoding and encoding, channel
 * conversion and antialiased resizing. The host table's image_* entries
 * point here, so every plugin gets the same limits and the same bytes.
 *
 * Error handling: every fallible call returns an aigtatt_status and sets
 * the thread's error text (util/error.h), which always starts with the
 * file's path (or the name given to aigtatt_image_load_memory()).
 *   AIGTATT_ERR_IO      the file cannot be opened, read or written;
 *   AIGTATT_ERR_FORMAT  empty, truncated, corrupt or not a PNG/JPEG;
 *   AIGTATT_ERR_LIMIT   over the pixel budget, too many progressive scans,
 *                       or a file too large for the pixel budget;
 *   AIGTATT_ERR_INVALID bad arguments (channels, quality, extension ...);
 *   AIGTATT_ERR_NOMEM   out of memory.
 * All functions are safe to call from several threads at once. */
#ifndef AIGTATT_CORE_IMAGE_H
#define AIGTATT_CORE_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <aigtatt/host.h>
#include <aigtatt/types.h>

/** The pixel budget used when opts->max_pixels is 0 and nothing else was
 *  configured: 64 megapixels. */
#define AIGTATT_IMAGE_DEFAULT_MAX_PIXELS UINT64_C(64000000)
/** Progressive JPEGs with more scans than this are refused when
 *  opts->max_scans is 0 (a many-scan file costs a full decode per scan). */
#define AIGTATT_IMAGE_DEFAULT_MAX_SCANS 100
/** JPEG quality used when aigtatt_image_save() is given 0. */
#define AIGTATT_IMAGE_DEFAULT_QUALITY 92

/** A zeroed image with stride == width*channels. NULL (error set) when
 *  width or height is <= 0, channels is not 1, 3 or 4, the size overflows,
 *  or memory runs out. Release with aigtatt_image_free(). */
aigtatt_image *aigtatt_image_new(int32_t w, int32_t h, int32_t channels);
/** The same with its pixels left unset, for writers of every byte. */
aigtatt_image *aigtatt_image_new_uninit(int32_t w, int32_t h, int32_t channels);

/** Releases an image and its pixels; NULL is a no-op. */
void aigtatt_image_free(aigtatt_image *img);

/** Decodes the PNG or JPEG at `path`, recognised by its first bytes, not
 *  its name. `opts` may be NULL (all defaults); otherwise opts->struct_size
 *  must be set (a smaller, older struct is accepted: the missing fields are
 *  defaults).
 *   - opts->channels: 0 keeps what is stored (grey -> 1, grey+alpha -> 4,
 *     RGB -> 3, RGBA -> 4; palettes, 16-bit and sub-byte PNGs become 8-bit
 *     grey/RGB/RGBA); 1, 3 or 4 converts as aigtatt_image_convert() does.
 *   - opts->max_pixels: refuse width*height above it (checked from the
 *     header, before pixels are allocated); 0: the default budget.
 *   - opts->min_width / min_height: a JPEG is decoded at the smallest DCT
 *     scale 1/1, 1/2, 1/4 or 1/8 whose size is still at least that (an
 *     axis whose minimum is <= 0 does not constrain). PNGs ignore them.
 *   - opts->max_scans: refuse JPEGs with more scans; 0: 100.
 *  Gamma (gAMA), colour profiles and text chunks are ignored. libjpeg's
 *  "corrupt data" warnings are errors: a truncated JPEG never loads with a
 *  grey bottom. On success *out owns a new image; on failure *out is NULL. */
int aigtatt_image_load(const char *path, const aigtatt_image_load_opts *opts,
                       aigtatt_image **out);

/** As aigtatt_image_load(), from `size` bytes at `data` (borrowed, not
 *  kept). `name` (may be NULL) is what error messages call the data, e.g.
 *  the URL it was downloaded from. */
int aigtatt_image_load_memory(const void *data, size_t size, const char *name,
                              const aigtatt_image_load_opts *opts, aigtatt_image **out);

/** Encodes `img` by the extension of `path`: ".png" (deterministic bytes:
 *  no timestamp, zlib level 3; `quality` ignored) or ".jpg"/".jpeg" (any
 *  case; `quality` 1..100, 0 means 92; 4:2:0 chroma, optimised Huffman
 *  tables; an RGBA image loses its alpha channel, which JPEG cannot hold).
 *  The bytes go to a temporary file in the same folder which is fsync'ed
 *  and renamed over `path`, so `path` is either untouched/absent or
 *  complete; the temporary file never outlives a failure. */
int aigtatt_image_save(const aigtatt_image *img, const char *path, int quality);

/** Sets the pixel budget used when opts->max_pixels is 0. 0 restores the
 *  default (64 megapixels). Process-wide; meant for start-up
 *  configuration, but safe at any time. */
void aigtatt_image_set_default_max_pixels(uint64_t n);
/** The current default pixel budget. */
uint64_t aigtatt_image_default_max_pixels(void);

/** A new image with `channels` (1, 3 or 4) holding `img`'s pixels:
 *   grey -> RGB replicates; grey/RGB -> RGBA adds opaque alpha;
 *   RGB -> grey is BT.601 luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16
 *   (the same integers as PIL's convert("L"));
 *   RGBA -> RGB or grey simply drops alpha (no compositing over a
 *   background: transparent pixels keep whatever colour they store).
 *  Same channel count: an exact copy. NULL (error set) on bad arguments or
 *  no memory. */
aigtatt_image *aigtatt_image_convert(const aigtatt_image *img, int channels);

/** A new RGB (channels 3) or grey (channels 1) image of RGBA `img`
 *  composited over white: c' = (c a + 255 (255 - a) + 127) / 255, so a
 *  transparent pixel is white paper whatever colour it stores (then luma
 *  for grey). How crop, augment and the trainer read a design with a
 *  transparent background. NULL (error set) unless `img` is RGBA, or on no
 *  memory. */
aigtatt_image *aigtatt_image_flatten(const aigtatt_image *img, int channels);

/** A new image of w x h: separable triangle (bilinear) filter whose support
 *  grows with the downscale factor, so shrinking averages every source
 *  pixel instead of skipping some (antialiasing). It follows PIL's
 *  Image.resize(BILINEAR) arithmetic: pixel centres at +0.5, 22-bit fixed
 *  point weights, the horizontal pass first and rounded to 8 bits, and for
 *  RGBA the colour premultiplied by alpha while filtering (so transparent
 *  pixels do not bleed their colour). Deterministic: the same input gives
 *  the same bytes on every machine. Same size: an exact copy. NULL (error
 *  set) on bad arguments or no memory. */
aigtatt_image *aigtatt_image_resize(const aigtatt_image *img, int32_t w, int32_t h);

#endif
