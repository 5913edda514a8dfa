#include "heatlens-error.h"

G_DEFINE_QUARK (hl-app-error-quark, hl_app_error)

void
hl_app_error_from_hl (GError **error, const hl_error *err)
{
  const char *msg = err->msg[0] ? err->msg : hl_status_name (err->status);

  g_set_error_literal (error, HL_APP_ERROR, (int) err->status, msg);
}
