/* HlPhoto: a decoded photo (hl_image, 8-bit RGB) and its GdkTexture for
 * display. Immutable after loading; shared with worker threads by ref. */
#pragma once

#include <gtk/gtk.h>
#include "image.h"

G_BEGIN_DECLS

#define HL_TYPE_PHOTO (hl_photo_get_type ())
G_DECLARE_FINAL_TYPE (HlPhoto, hl_photo, HL, PHOTO, GObject)

/* Decodes in a thread through hl_image_load / hl_image_load_buffer. */
void      hl_photo_load_file_async  (GFile               *file,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
void      hl_photo_load_bytes_async (GBytes              *bytes,
                                     const char          *display_name,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
HlPhoto  *hl_photo_load_finish      (GAsyncResult        *result,
                                     GError             **error);
/* A pasted picture: composited on white like the file loaders do. */
HlPhoto  *hl_photo_new_from_texture (GdkTexture          *texture,
                                     const char          *display_name);

const hl_image *hl_photo_get_image   (HlPhoto *self);
GdkTexture     *hl_photo_get_texture (HlPhoto *self);
const char     *hl_photo_get_name    (HlPhoto *self);
/* NULL for pasted pictures. */
const char     *hl_photo_get_path    (HlPhoto *self);
guint           hl_photo_get_serial  (HlPhoto *self);

G_END_DECLS
