/* aigtatt SDK: status codes and the small value types shared by the host
 * and plugins. */
#ifndef AIGTATT_TYPES_H
#define AIGTATT_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Status returned by every fallible SDK call. Zero is success; the text of
 *  a failure travels separately through aigtatt_host.set_error(). */
typedef enum aigtatt_status {
    AIGTATT_OK = 0,             /**< success */
    AIGTATT_ERR = -1,           /**< generic failure; see the error text */
    AIGTATT_ERR_NOMEM = -2,     /**< allocation failed */
    AIGTATT_ERR_IO = -3,        /**< a file or network operation failed */
    AIGTATT_ERR_INVALID = -4,   /**< bad argument, parameter or input data */
    AIGTATT_ERR_FORMAT = -5,    /**< a file is corrupt or not what it claims */
    AIGTATT_ERR_LIMIT = -6,     /**< a configured limit (size, pixels) was hit */
    AIGTATT_ERR_CANCELLED = -7  /**< the user interrupted the run (Ctrl-C) */
} aigtatt_status;

/** Log levels for aigtatt_host.log(). */
typedef enum aigtatt_log_level {
    AIGTATT_LOG_ERROR = 0,
    AIGTATT_LOG_WARN = 1,
    AIGTATT_LOG_INFO = 2,
    AIGTATT_LOG_DEBUG = 3
} aigtatt_log_level;

/** An 8-bit image, rows top to bottom, channels interleaved (1 = grey,
 *  3 = RGB, 4 = RGBA). Always allocated and freed by the host
 *  (aigtatt_host.image_new / image_load / image_free) so that fields can be
 *  appended without breaking plugins; a plugin may read and write the
 *  pixels and must not change the other fields. */
typedef struct aigtatt_image {
    int32_t width;    /**< pixels per row, > 0 */
    int32_t height;   /**< rows, > 0 */
    int32_t channels; /**< 1, 3 or 4 */
    size_t stride;    /**< bytes from one row to the next, >= width*channels */
    uint8_t *data;    /**< height*stride bytes, owned by the image */
} aigtatt_image;

/** One row of a record set (the JSONL manifest behind the prompts and
 *  images ports). Every string is UTF-8 and may be NULL when absent.
 *  When a plugin hands a record to the host, the host copies the strings;
 *  when the host hands one to a plugin, the strings belong to the set and
 *  live until the set is closed. */
typedef struct aigtatt_record {
    size_t struct_size;    /**< sizeof(aigtatt_record) as the plugin knows it */
    const char *id;        /**< unique within the set; required */
    const char *identity;  /**< tattoo identity (the folder name), or NULL */
    const char *role;      /**< "prompt", "original", "cropped", "variation", ... */
    const char *path;      /**< file relative to the set's folder, or NULL */
    const char *text;      /**< prompt or caption text, or NULL */
    const char *source;    /**< id of the record this one was made from, or NULL */
    const char *split;     /**< "train", "val", "test", or NULL */
    const char *meta_json; /**< a JSON object with free-form details (sampled
                                parameters, provider ids), or NULL */
} aigtatt_record;

/** Declares `rec` as an aigtatt_record with struct_size filled in and every
 *  other field NULL. */
#define AIGTATT_RECORD_INIT { .struct_size = sizeof(aigtatt_record) }

#ifdef __cplusplus
}
#endif
#endif
