/* Where the bundled model and sample photos live: $HEATLENS_DATADIR, the
 * source tree's data/ (runs from the build tree) or the installed datadir. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Full path of data/<relative> or NULL when no data dir has it. */
char      *hl_data_find_file    (const char *relative);
/* The bundled model (data/models/mobilenet_v2.onnx) or NULL. */
char      *hl_data_default_model (void);
/* Sample photos (PNG and JPEG files in data/samples), sorted by name. */
GPtrArray *hl_data_list_samples (void);
/* A sample by base name without extension ("cat"), or NULL. */
char      *hl_data_find_sample  (const char *name);

/* The window's settings. The schema comes from the usual places
 * (GSETTINGS_SCHEMA_DIR, the installed one) or, for `make run` from the
 * build tree, from <build>/data. NULL (with a message) when none has it. */
GSettings *hl_settings_new      (GError **error);

G_END_DECLS
