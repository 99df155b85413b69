/* Internals of the OpenAI plugin (prefix po_): prompt.openai (chat
 * completions, OpenAI or any compatible server) and image.openai (the
 * images API). */
#ifndef PO_H
#define PO_H

#include "pv.h"

extern const aigtatt_component_desc po_prompt_desc;
extern const aigtatt_component_desc po_image_desc;

/* OpenAI-Organization / OpenAI-Project headers from the parameters of the
 * same names (empty ones are left out); returns how many were filled. */
size_t po_org_headers(const aigtatt_params *p, aigtatt_http_header *h);

/* The parameters po_org_headers() reads. */
#define PO_ORG_PARAMS                                                                                          \
    {.name = "organization", .type = AIGTATT_PARAM_STRING, .default_value = "",                                \
     .doc = "OpenAI-Organization header (an org id, not a secret); '' sends none."},                           \
    {.name = "project", .type = AIGTATT_PARAM_STRING, .default_value = "",                                     \
     .doc = "OpenAI-Project header (a project id); '' sends none."}

#endif
