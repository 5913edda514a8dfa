/* Textures for the teaching views (see heatlens-map-texture.h). */
#include "heatlens-map-texture.h"
#include "heatlens-error.h"
#include "preprocess_inverse.h"

#include <string.h>

GdkTexture *
hl_texture_new_from_image (const hl_image *image)
{
  gsize stride = (gsize) image->width * 3;
  g_autoptr(GBytes) bytes = g_bytes_new (image->rgb, stride * (gsize) image->height);

  return gdk_memory_texture_new (image->width, image->height, GDK_MEMORY_R8G8B8,
                                 bytes, stride);
}

GdkTexture *
hl_texture_new_from_input (const hl_preprocess *pp,
                           const float         *input,
                           int                  width,
                           int                  height)
{
  hl_image *img = hl_image_new (width, height);
  GdkTexture *texture;

  if (img == NULL)
    return NULL;
  hl_preprocess_to_image (pp, input, img);
  texture = hl_texture_new_from_image (img);
  hl_image_free (img);
  return texture;
}

GdkTexture *
hl_texture_new_from_map (const float     *map,
                         const hl_shape  *shape,
                         hl_viz_sign      sign,
                         const hl_image  *under,
                         int              width,
                         int              height,
                         GError         **error)
{
  hl_array *a = hl_array_new (shape);
  hl_viz_norm *norm = NULL;
  hl_viz_options o;
  hl_error err = { 0 };
  hl_image *out = NULL;
  GdkTexture *texture = NULL;
  hl_status st;

  if (a == NULL)
    {
      g_set_error_literal (error, HL_APP_ERROR, HL_ERR_NOMEM, "out of memory (map)");
      return NULL;
    }
  memcpy (a->data, map, sizeof (float) * (size_t) hl_shape_numel (shape));
  hl_viz_options_init (&o);
  o.sign = sign;
  o.mode = under ? HL_VIZ_BLENDED_HEAT_MAP : HL_VIZ_HEAT_MAP;
  st = hl_viz_normalize (a, sign, o.outlier_perc, &norm, &err);
  out = st == HL_OK ? hl_image_new (width, height) : NULL;
  if (st == HL_OK && out == NULL)
    st = hl_error_set (&err, HL_ERR_NOMEM, "out of memory (map picture)");
  if (st == HL_OK)
    st = hl_viz_render_rgb (norm, under, NULL, &o, width, height, out->rgb, width * 3, &err);
  if (st == HL_OK)
    texture = hl_texture_new_from_image (out);
  else
    hl_app_error_from_hl (error, &err);
  hl_image_free (out);
  hl_viz_norm_free (norm);
  hl_array_free (a);
  return texture;
}

hl_image *
hl_texture_crop_image (const HlPrediction *prediction)
{
  const hl_shape *s = &prediction->input->shape;
  hl_image *img = hl_image_new ((int) s->dims[3], (int) s->dims[2]);

  if (img)
    hl_image01_to_image (prediction->image01, (int) s->dims[1], img);
  return img;
}

gboolean
hl_widget_save_png (GtkWidget   *widget,
                    const char  *path,
                    GError     **error)
{
  int w = gtk_widget_get_width (widget);
  int h = gtk_widget_get_height (widget);
  GtkNative *native = gtk_widget_get_native (widget);
  GskRenderer *renderer = native ? gtk_native_get_renderer (native) : NULL;
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;

  if (w <= 0 || h <= 0 || renderer == NULL)
    {
      g_set_error_literal (error, HL_APP_ERROR, HL_ERR_ARG, "the window is not shown yet");
      return FALSE;
    }
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error_literal (error, HL_APP_ERROR, HL_ERR_ARG, "nothing was drawn");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, HL_APP_ERROR, HL_ERR_IO, "%s: cannot write the screenshot", path);
      return FALSE;
    }
  return TRUE;
}
