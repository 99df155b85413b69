/* Config tree -> YAML text, through libyaml's emitter, which already knows
 * when a scalar must be quoted to read back as the same text. */
#include "config/cfg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/buf.h"
#include "util/error.h"

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    aigtatt_buf *b = data;
    aigtatt_buf_append(b, (const char *)buffer, size);
    return !b->failed;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
    /* yaml_emitter_emit takes the event even when it fails */
    return yaml_emitter_emit(em, ev) ? 0 : -1;
}

/* A scalar that was plain goes out plain (libyaml falls back to quotes when
 * the text cannot be plain, e.g. it holds a tab or a line break, which no
 * number or bool does). A quoted one stays quoted so that "123" or "yes"
 * remain strings: a literal block for multi-line text, else double quotes. */
static int emit_scalar(yaml_emitter_t *em, const char *text, int quoted)
{
    yaml_event_t ev;
    yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
    if (quoted)
        style = strchr(text, '\n') ? YAML_LITERAL_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    /* quoted_implicit = 1 in both cases: no "!" tag in front of quotes */
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)text,
                                      (int)strlen(text), !quoted, 1, style))
        return -1;
    return emit(em, &ev);
}

static int emit_node(yaml_emitter_t *em, const aigtatt_cfg *c)
{
    yaml_event_t ev;
    switch (c->type) {
    case AIGTATT_CFG_SCALAR:
        return emit_scalar(em, c->scalar, c->quoted);
    case AIGTATT_CFG_SEQ:
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
            emit(em, &ev) != 0)
            return -1;
        for (size_t i = 0; i < c->len; i++)
            if (emit_node(em, c->items[i]) != 0)
                return -1;
        if (!yaml_sequence_end_event_initialize(&ev))
            return -1;
        return emit(em, &ev);
    case AIGTATT_CFG_MAP:
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
            emit(em, &ev) != 0)
            return -1;
        for (size_t i = 0; i < c->len; i++)
            if (emit_scalar(em, c->keys[i], 0) != 0 || emit_node(em, c->items[i]) != 0)
                return -1;
        if (!yaml_mapping_end_event_initialize(&ev))
            return -1;
        return emit(em, &ev);
    }
    return -1;
}

char *aigtatt_cfg_to_yaml(const aigtatt_cfg *c)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    aigtatt_buf out = AIGTATT_BUF_INIT;
    if (!c) {
        aigtatt_set_error("aigtatt_cfg_to_yaml: NULL tree");
        return NULL;
    }
    if (!yaml_emitter_initialize(&em)) {
        aigtatt_set_error("out of memory writing YAML");
        return NULL;
    }
    yaml_emitter_set_output(&em, write_handler, &out);
    yaml_emitter_set_unicode(&em, 1); /* keep UTF-8 text readable, not \u-escaped */
    yaml_emitter_set_width(&em, -1);  /* no folding of long lines */
    yaml_emitter_set_indent(&em, 2);
    if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || emit(&em, &ev) != 0 ||
        !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || emit(&em, &ev) != 0 ||
        emit_node(&em, c) != 0 || !yaml_document_end_event_initialize(&ev, 1) ||
        emit(&em, &ev) != 0 || !yaml_stream_end_event_initialize(&ev) || emit(&em, &ev) != 0 ||
        !yaml_emitter_flush(&em))
        goto fail;
    if (out.failed)
        goto fail;
    yaml_emitter_delete(&em);
    return aigtatt_buf_take(&out);
fail:
    if (out.failed || em.error == YAML_MEMORY_ERROR)
        aigtatt_set_error("out of memory writing YAML");
    else
        aigtatt_set_error("cannot write YAML: %s", em.problem ? em.problem : "emitter error");
    yaml_emitter_delete(&em);
    aigtatt_buf_free(&out);
    return NULL;
}
