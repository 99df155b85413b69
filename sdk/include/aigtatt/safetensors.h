/* aigtatt SDK: reading and writing safetensors files (checkpoints, imported
 * torchvision weights, embeddings).
 *
 * The format (https://github.com/huggingface/safetensors):
 *   8 bytes   N, unsigned little-endian 64-bit: the size of the header
 *   N bytes   a UTF-8 JSON object:
 *               {"__metadata__": {"key": "value", ...},            (optional)
 *                "NAME": {"dtype": "F32", "shape": [2, 3],
 *                         "data_offsets": [BEGIN, END]}, ...}
 *   the rest  the data buffer; each tensor's bytes lie at [BEGIN, END)
 *             relative to its start, little-endian, row-major (C order).
 *
 * The reader validates like the reference implementation (the Rust crate
 * behind the Python package) and refuses, with a message naming the file and
 * the tensor: a file shorter than 8 bytes; N over 100,000,000 (the
 * reference's limit) or beyond the end of the file; a header that is not
 * UTF-8, does not begin with '{' (the format's rule), is not a JSON object,
 * or repeats a key; an unknown dtype; a shape entry that is not a
 * non-negative integer; an element count or byte size that overflows 64
 * bits; offsets that are not non-negative integers, END < BEGIN, or
 * END - BEGIN != elements * element size; offsets that, taken in order of
 * BEGIN, leave a gap or overlap; and a data buffer longer or shorter than
 * the last END (so no trailing bytes). "__metadata__" must map strings to
 * strings. Unknown fields inside a tensor entry are ignored, as the
 * reference does.
 *
 * The writer produces the bytes the reference's serializer produces for the
 * same tensors (compact JSON, tensors ordered by descending dtype rank in the
 * reference's Dtype order, then by name byte-wise; the header padded with
 * spaces to a multiple of 8 bytes), so every tensor's data is aligned to its
 * element size within the file. Only "__metadata__" may differ: the
 * reference writes its keys in hash order, aigtatt sorted by key.
 *
 * Every function here sets the error text (aigtatt_host.last_error) when it
 * fails. None of them keeps global state; one open file or one writer may be
 * used from several threads for reading (st_count, st_tensor_at, st_find,
 * st_metadata*), but a writer must not be changed from two threads at
 * once. */
#ifndef AIGTATT_SAFETENSORS_H
#define AIGTATT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An open, validated safetensors file (read into memory whole). */
typedef struct aigtatt_st aigtatt_st;
/** A set of tensors and metadata being prepared for writing. */
typedef struct aigtatt_st_writer aigtatt_st_writer;

/** Element types, by their names in the file. The numbers are aigtatt's ABI
 *  (never reused); they are not the reference's ordering. */
typedef enum aigtatt_st_dtype {
    AIGTATT_ST_INVALID = 0,
    AIGTATT_ST_BOOL = 1,        /**< "BOOL", 1 byte (0 or 1) */
    AIGTATT_ST_U8 = 2,          /**< "U8" */
    AIGTATT_ST_I8 = 3,          /**< "I8" */
    AIGTATT_ST_I16 = 4,         /**< "I16" */
    AIGTATT_ST_U16 = 5,         /**< "U16" */
    AIGTATT_ST_F16 = 6,         /**< "F16", IEEE half */
    AIGTATT_ST_BF16 = 7,        /**< "BF16", bfloat16 */
    AIGTATT_ST_I32 = 8,         /**< "I32" */
    AIGTATT_ST_U32 = 9,         /**< "U32" */
    AIGTATT_ST_F32 = 10,        /**< "F32" */
    AIGTATT_ST_F64 = 11,        /**< "F64" */
    AIGTATT_ST_I64 = 12,        /**< "I64" */
    AIGTATT_ST_U64 = 13,        /**< "U64" */
    AIGTATT_ST_F8_E5M2 = 14,    /**< "F8_E5M2", 1 byte */
    AIGTATT_ST_F8_E4M3 = 15,    /**< "F8_E4M3", 1 byte */
    AIGTATT_ST_F8_E8M0 = 16,    /**< "F8_E8M0", 1 byte */
    AIGTATT_ST_F8_E4M3FNUZ = 17, /**< "F8_E4M3FNUZ", 1 byte */
    AIGTATT_ST_F8_E5M2FNUZ = 18, /**< "F8_E5M2FNUZ", 1 byte */
    AIGTATT_ST_C64 = 19,        /**< "C64", two F32 (real, imaginary) */
    AIGTATT_ST_F4 = 20,         /**< "F4", 4 bits; a tensor's bit count must
                                     be a multiple of 8 */
    AIGTATT_ST_F6_E2M3 = 21,    /**< "F6_E2M3", 6 bits (same rule) */
    AIGTATT_ST_F6_E3M2 = 22     /**< "F6_E3M2", 6 bits (same rule) */
} aigtatt_st_dtype;

/** One tensor of an open file. Fill struct_size (AIGTATT_ST_INFO_INIT) before
 *  handing it to st_tensor_at / st_find; the host writes no byte past it, so
 *  fields can be appended without breaking plugins. Every pointer belongs to
 *  the file and stays valid until st_close(). */
typedef struct aigtatt_st_info {
    size_t struct_size;     /**< sizeof(aigtatt_st_info) as the caller knows it */
    const char *name;       /**< the key, UTF-8, NUL-terminated */
    aigtatt_st_dtype dtype;
    size_t ndim;            /**< 0 for a scalar (shape []) */
    const uint64_t *shape;  /**< ndim entries; NULL when ndim is 0 */
    uint64_t numel;         /**< product of shape (1 for a scalar, 0 when a
                                 dimension is 0) */
    uint64_t nbytes;        /**< END - BEGIN */
    const void *data;       /**< nbytes bytes in the handle's copy; never
                                 write through it. Aligned to the element size
                                 when the writer aligned it (aigtatt and the
                                 reference do); other writers may not, so
                                 use memcpy or check the address before
                                 loading wide elements. Not NULL even when
                                 nbytes is 0. */
    uint64_t file_offset;   /**< where the data starts in the file */
} aigtatt_st_info;

#define AIGTATT_ST_INFO_INIT { .struct_size = sizeof(aigtatt_st_info) }

/** st_writer_add() flag: keep a pointer to `data` instead of copying it. The
 *  caller keeps the bytes valid and unchanged until st_writer_write() has
 *  returned or st_writer_free() was called. */
#define AIGTATT_ST_BORROW 1u

/** The dtype's name as in the file ("F32"); NULL for an unknown value. */
typedef const char *(*aigtatt_st_dtype_name_fn)(aigtatt_st_dtype dtype);
/** The dtype whose name is `name` (exact, case-sensitive); AIGTATT_ST_INVALID
 *  if none or NULL. */
typedef aigtatt_st_dtype (*aigtatt_st_dtype_parse_fn)(const char *name);
/** Bits per element (4, 6, 8, 16, 32 or 64); 0 for an unknown dtype. */
typedef size_t (*aigtatt_st_dtype_bits_fn)(aigtatt_st_dtype dtype);

/** Opens and validates `path` (see the rules above). On success *out is a
 *  handle to release with st_close() and AIGTATT_OK is returned. On failure
 *  *out is NULL and the status is AIGTATT_ERR_IO (cannot open, not a regular
 *  file, read failed or the file shrank meanwhile), AIGTATT_ERR_FORMAT (any
 *  rule broken),
 *  AIGTATT_ERR_LIMIT (header over 100,000,000 bytes), AIGTATT_ERR_NOMEM or
 *  AIGTATT_ERR_INVALID (NULL argument); the error text begins with the path
 *  and names the offending tensor key. The file is read whole into memory
 *  (not mapped, as the reference does), so changing or truncating it while
 *  the handle is open cannot affect the data or stop the process. */
typedef int (*aigtatt_st_open_fn)(const char *path, aigtatt_st **out);
/** Releases an open file; every pointer obtained from it dies. NULL is a
 *  no-op. */
typedef void (*aigtatt_st_close_fn)(aigtatt_st *st);
/** The number of tensors; 0 for NULL. */
typedef size_t (*aigtatt_st_count_fn)(const aigtatt_st *st);
/** Fills *info with tensor `i`; tensors are numbered in order of their data
 *  offsets (BEGIN, then END, then name), as the reference lists them.
 *  AIGTATT_ERR_INVALID when `i` is out of range, an argument is NULL or
 *  info->struct_size is smaller than this first version of the struct (use
 *  AIGTATT_ST_INFO_INIT). */
typedef int (*aigtatt_st_tensor_at_fn)(const aigtatt_st *st, size_t i, aigtatt_st_info *info);
/** Fills *info with the tensor called `name` (O(log n)); AIGTATT_ERR_INVALID
 *  with the error text "<path>: no tensor 'name'" when there is none.
 *  `info` may be NULL to only test for presence. */
typedef int (*aigtatt_st_find_fn)(const aigtatt_st *st, const char *name, aigtatt_st_info *info);
/** The "__metadata__" value under `key`, owned by the file (until st_close);
 *  NULL when absent, when the file has no metadata, or for NULL arguments.
 *  Sets no error. */
typedef const char *(*aigtatt_st_metadata_fn)(const aigtatt_st *st, const char *key);
/** The number of "__metadata__" entries; 0 for NULL. */
typedef size_t (*aigtatt_st_metadata_count_fn)(const aigtatt_st *st);
/** Entry `i` of "__metadata__", in byte-wise order of keys; both strings are
 *  owned by the file. AIGTATT_ERR_INVALID when out of range. `key` or
 *  `value` may be NULL. */
typedef int (*aigtatt_st_metadata_at_fn)(const aigtatt_st *st, size_t i, const char **key,
                                         const char **value);
/** The path the file was opened with (owned by the file). */
typedef const char *(*aigtatt_st_path_fn)(const aigtatt_st *st);

/** A new, empty writer; NULL (error set) when out of memory. Release with
 *  st_writer_free(). */
typedef aigtatt_st_writer *(*aigtatt_st_writer_new_fn)(void);
/** Adds a tensor. `name` (copied) must be non-empty UTF-8, not
 *  "__metadata__" and not added before. `shape` holds `ndim` entries (may be
 *  NULL when ndim is 0: a scalar), each at most 2^63 - 1 (the largest the
 *  reader, whose JSON integers are 64-bit signed, accepts). `nbytes` must equal the element count
 *  times the element size (bits / 8; for 4- and 6-bit types the bit count
 *  must be a whole number of bytes). `data` may be NULL only when nbytes is
 *  0. The bytes are copied unless `flags` has AIGTATT_ST_BORROW. Returns
 *  AIGTATT_OK, AIGTATT_ERR_INVALID (with a message naming the tensor) or
 *  AIGTATT_ERR_NOMEM; a failed add leaves the writer as it was. */
typedef int (*aigtatt_st_writer_add_fn)(aigtatt_st_writer *w, const char *name,
                                        aigtatt_st_dtype dtype, size_t ndim,
                                        const uint64_t *shape, const void *data,
                                        size_t nbytes, unsigned flags);
/** Sets "__metadata__"[key] = value (both copied, UTF-8; setting a key again
 *  replaces its value). AIGTATT_ERR_INVALID for NULL or non-UTF-8 text. */
typedef int (*aigtatt_st_writer_meta_fn)(aigtatt_st_writer *w, const char *key, const char *value);
/** Writes everything added so far to `path` atomically: a temporary file
 *  in the same folder, fsync, rename, then fsync of the folder, so `path`
 *  is either its old self or complete. Missing parent folders are created.
 *  The writer is unchanged and may be written again. AIGTATT_ERR_IO (with
 *  the path and the system's reason), AIGTATT_ERR_LIMIT (header over
 *  100,000,000 bytes) or AIGTATT_ERR_NOMEM on failure. */
typedef int (*aigtatt_st_writer_write_fn)(const aigtatt_st_writer *w, const char *path);
/** Releases a writer and its copies (never borrowed data). NULL is a no-op. */
typedef void (*aigtatt_st_writer_free_fn)(aigtatt_st_writer *w);

#ifdef __cplusplus
}
#endif
#endif
