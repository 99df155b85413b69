/* The procedural tattoo renderer behind image.procedural, usable on its own
 * (tests, the pg_preview tool) without the aigtatt host.
 *
 * A design is a pure function of (prompt, seed, options): the prompt's words
 * pick the style family and subject, the seed varies the details. */
#ifndef PG_RENDER_H
#define PG_RENDER_H

#include <stddef.h>
#include <stdint.h>

/** How much colour a design may use. */
typedef enum pg_color_mode {
    PG_COLOR_AUTO = 0, /**< the prompt's style and colour words decide */
    PG_COLOR_NONE = 1, /**< black and grey only */
    PG_COLOR_ACCENT = 2, /**< black plus one accent colour */
    PG_COLOR_FULL = 3  /**< several colours */
} pg_color_mode;

/** Render options; pg_options_default() fills the defaults. */
typedef struct pg_options {
    int width;            /**< pixels, 16..8192 (default 1024) */
    int height;           /**< pixels, 16..8192 (default 1024) */
    int skin;             /**< non-zero: draw the tattoo on skin instead of paper */
    pg_color_mode color;  /**< colour policy */
    double stroke_scale;  /**< multiplies every line width (default 1) */
    double detail;        /**< multiplies densities of dots, lines, rings (default 1) */
} pg_options;

/** What the renderer chose, as a JSON object for manifests. */
typedef struct pg_info {
    char json[768];
} pg_info;

/** Status codes. */
enum { PG_OK = 0, PG_EINVAL = -1, PG_ENOMEM = -2 };

/** Fills `opt` with the defaults. */
void pg_options_default(pg_options *opt);

/** Renders the design for (prompt, seed) as 8-bit RGB into `rgb`, rows
 *  `stride` bytes apart (stride >= 3*width). `prompt` NULL means "".
 *  `opt` NULL means the defaults; `info` may be NULL. Thread-safe. */
int pg_render_into(const char *prompt, uint64_t seed, const pg_options *opt,
                   unsigned char *rgb, size_t stride, pg_info *info);

/** Like pg_render_into() into a new malloc()ed width*height*3 buffer that
 *  the caller frees with free(). */
int pg_render(const char *prompt, uint64_t seed, const pg_options *opt,
              unsigned char **rgb_out, pg_info *info);

#endif
