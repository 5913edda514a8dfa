/* GError domain of the window: one code per hl_status, so a library error
 * (file, node or parameter at fault) reaches the banner unchanged. */
#pragma once

#include <glib.h>
#include "engine.h"

G_BEGIN_DECLS

#define HL_APP_ERROR (hl_app_error_quark ())
GQuark hl_app_error_quark (void);

/* Copies err->msg (or the status name when the message is empty). */
void hl_app_error_from_hl (GError **error, const hl_error *err);

G_END_DECLS
