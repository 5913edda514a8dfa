/* Where the bundled model and sample photos live: $HEATLENS_DATADIR, the
 * source tree's data/ (runs from the build tree) or the installed datadir. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Full path of data/<relative> or NULL when no data dir has it. */
char      *hl_data_find_file    (const char *relative);
/* The bundled model (data/models/mobilenet_v2.onnx) or NULL. */
char      *hl_data_default_model (void);
/* Sample photos (PNG and JPEG files in data/samples), sorted by name. */
GPtrArray *hl_data_list_samples (void);
/* A sample by base name without extension ("cat"), or NULL. */
char      *hl_data_find_sample  (const char *name);

G_END_DECLS
