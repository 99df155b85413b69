/* The crop plugin's descriptor. */
#include "cb.h"

const aigtatt_host *cb_host;

static int cb_init(const aigtatt_host *host)
{
    cb_host = host;
    return AIGTATT_OK;
}

static const aigtatt_component_desc *const cb_components_list[] = {&cb_ink_desc, &cb_bbox_desc, NULL};

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-crop-basic", .version = "0.1.0", .license = "MIT",
                      .description = "Tattoo croppers: ink-versus-skin segmentation and annotation boxes",
                      .components = cb_components_list, .init = cb_init);
