/* The crop plugin's descriptor. */
#include <stddef.h>
#include "cb.h"

const aigtatt_host *cb_host;

static int cb_init(const aigtatt_host *host)
{
    /* needs link_file and image_new_uninit, the newest host functions used */
    if (host->struct_size < offsetof(aigtatt_host, image_new_uninit) + sizeof host->image_new_uninit)
        return AIGTATT_ERR_INVALID;
    cb_host = host;
    return AIGTATT_OK;
}

static const aigtatt_component_desc *const cb_components_list[] = {&cb_ink_desc, &cb_bbox_desc, NULL};

AIGTATT_PLUGIN_DEFINE(.name = "aigtatt-crop-basic", .version = "0.1.0", .license = "MIT",
                      .description = "Tattoo croppers: ink-versus-skin segmentation and annotation boxes",
                      .components = cb_components_list, .init = cb_init);
