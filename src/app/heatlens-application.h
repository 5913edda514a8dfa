/* HlApplication: command line, application actions (about, quit), styling
 * and the --screenshot mode. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HL_TYPE_APPLICATION (hl_application_get_type ())
G_DECLARE_FINAL_TYPE (HlApplication, hl_application, HL, APPLICATION, GtkApplication)

HlApplication *hl_application_new             (void);
/* 0, or 1 when --screenshot could not show the requested result. */
int            hl_application_get_exit_status (HlApplication *self);

G_END_DECLS
