/* aigtatt SDK: declared parameters.
 *
 * Every component lists its parameters so that the host validates YAML
 * before anything runs and `aigtatt plugins info` prints real docs. */
#ifndef AIGTATT_PARAMS_H
#define AIGTATT_PARAMS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The type of a declared parameter. */
typedef enum aigtatt_param_type {
    AIGTATT_PARAM_BOOL = 1,   /**< true / false */
    AIGTATT_PARAM_INT = 2,    /**< 64-bit signed integer */
    AIGTATT_PARAM_FLOAT = 3,  /**< double */
    AIGTATT_PARAM_STRING = 4, /**< any text */
    AIGTATT_PARAM_ENUM = 5,   /**< one of `choices` */
    AIGTATT_PARAM_PATH = 6,   /**< a file or folder; relative paths are taken
                                   from the experiment file's folder */
    AIGTATT_PARAM_LIST = 7,   /**< a YAML sequence; scalars are checked against
                                   `item_type` when it is set */
    AIGTATT_PARAM_MAP = 8     /**< a YAML mapping, validated by the component */
} aigtatt_param_type;

/** One declared parameter. Arrays of these end with an entry whose name is
 *  NULL. The host reads the array through AIGTATT_PARAMS(), which records the
 *  element size so that fields appended here stay compatible. */
typedef struct aigtatt_param_desc {
    const char *name;          /**< snake_case key in YAML; NULL ends the array */
    aigtatt_param_type type;   /**< value type */
    const char *default_value; /**< the default as YAML text ("0.5", "[]",
                                    "true"); NULL makes the parameter required */
    int has_min;               /**< non-zero: values below `min` are refused */
    double min;                /**< inclusive lower bound for INT and FLOAT */
    int has_max;               /**< non-zero: values above `max` are refused */
    double max;                /**< inclusive upper bound for INT and FLOAT */
    const char *choices;       /**< ENUM: allowed values separated by '|' */
    aigtatt_param_type item_type; /**< LIST: type of every item, or 0 for any */
    const char *doc;           /**< one or two sentences for users; required */
    /** Non-zero: the value cannot change what the component produces (a
     *  thread count, a timeout, a retry policy), so it is left out of the
     *  node's cache key and changing it reuses cached results. The run's
     *  resolved.yaml still records it. Set it only where the outputs are
     *  the same bit for bit whatever the value. Added in ABI minor 1. */
    int no_key;
} aigtatt_param_desc;

/** A typed port of a graph node. Port types are plain words ("prompts",
 *  "images", "embeddings", "model", "metrics", "report") so third parties
 *  can add their own without an ABI change. Arrays end with name NULL. */
typedef struct aigtatt_port_desc {
    const char *name;     /**< port name used in YAML `inputs:`; NULL ends */
    const char *type;     /**< artifact type; an input accepts only an output
                               of the same type */
    int optional;         /**< inputs only: non-zero if it may be left out */
    const char *doc;      /**< what flows through the port */
} aigtatt_port_desc;

#ifdef __cplusplus
}
#endif
#endif
