/* aigtatt SDK: the one header a plugin includes. */
#ifndef AIGTATT_H
#define AIGTATT_H
#include "version.h"
#include "types.h"
#include "params.h"
#include "plugin.h"
#include "host.h"
#include "model.h"
#endif
