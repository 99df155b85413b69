/* The OpenAI plugin's descriptor: prompt.openai and image.openai. */
#include <string.h>

#include "po.h"

size_t po_org_headers(const aigtatt_params *p, aigtatt_http_header *h)
{
    size_t n = 0;
    const char *org = pv_host->param_string(p, "organization");
    const char *proj = pv_host->param_string(p, "project");
    if (org && *org)
        h[n++] = (aigtatt_http_header){"OpenAI-Organization", org};
    if (proj && *proj)
        h[n++] = (aigtatt_http_header){"OpenAI-Project", proj};
    return n;
}

static int po_init(const aigtatt_host *host)
{
    pv_host = host;
    return AIGTATT_OK;
}

static const aigtatt_component_desc *const po_components[] = {&po_prompt_desc, &po_image_desc, NULL};

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-provider-openai", .version = "1.1.0", .license = "MIT",
                      .description = "OpenAI and compatible servers: tattoo prompts from chat models, images from "
                                     "the images API",
                      .components = po_components, .init = po_init);
