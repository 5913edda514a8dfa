/* Getting photos and models into the window: drag and drop, paste, and the
 * sample gallery. */
#include "heatlens-window-private.h"
#include "heatlens-data.h"

#include <string.h>

#define THUMB_SIZE 96

static gboolean
is_model_file (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = name ? g_ascii_strdown (name, -1) : NULL;

  return lower && g_str_has_suffix (lower, ".onnx");
}

static void
open_file (HlWindow *self,
           GFile    *file)
{
  if (is_model_file (file))
    {
      g_autofree char *path = g_file_get_path (file);

      if (path)
        hl_window_open_model (self, path);
      else
        hl_window_show_error (self, "Models can only be opened from local files");
    }
  else
    hl_window_open_image (self, file);
}

static gboolean
drop_cb (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         HlWindow      *self)
{
  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = g_value_get_boxed (value);

      if (files == NULL)
        return FALSE;
      open_file (self, files->data);
      return TRUE;
    }
  if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    {
      open_file (self, g_value_get_object (value));
      return TRUE;
    }
  if (G_VALUE_HOLDS (value, GDK_TYPE_TEXTURE))
    {
      g_autoptr(HlPhoto) photo = hl_photo_new_from_texture (g_value_get_object (value), "dropped image");

      if (photo)
        hl_window_set_photo (self, photo);
      return photo != NULL;
    }
  return FALSE;
}

void
hl_window_init_dnd (HlWindow *self)
{
  GtkDropTarget *target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE, GDK_TYPE_TEXTURE };

  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  g_signal_connect (target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
}

/* ------------------------------------------------------------ paste */

static void
paste_file_cb (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  g_autoptr(HlWindow) self = hl_window_weak_ref_take (user_data);
  g_autoptr(GError) error = NULL;
  const GValue *value = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (source), res, &error);

  if (self == NULL)
    return;
  if (value == NULL)
    {
      hl_window_show_error (self, "The clipboard holds no image or image file");
      return;
    }
  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST) && g_value_get_boxed (value))
    open_file (self, ((GSList *) g_value_get_boxed (value))->data);
  else if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    open_file (self, g_value_get_object (value));
}

static void
paste_texture_cb (GObject      *source,
                  GAsyncResult *res,
                  gpointer      user_data)
{
  g_autoptr(HlWindow) self = hl_window_weak_ref_take (user_data);
  g_autoptr(GdkTexture) texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (source), res, NULL);
  g_autoptr(HlPhoto) photo = NULL;

  if (self == NULL)
    return;
  if (texture && (photo = hl_photo_new_from_texture (texture, "pasted image")))
    hl_window_set_photo (self, photo);
  else
    hl_window_show_error (self, "The clipboard holds no image");
}

void
hl_window_paste (HlWindow *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);

  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    gdk_clipboard_read_value_async (clipboard, GDK_TYPE_FILE_LIST, G_PRIORITY_DEFAULT,
                                    NULL, paste_file_cb, hl_window_weak_ref (self));
  else if (gdk_content_formats_contain_gtype (formats, G_TYPE_FILE))
    gdk_clipboard_read_value_async (clipboard, G_TYPE_FILE, G_PRIORITY_DEFAULT,
                                    NULL, paste_file_cb, hl_window_weak_ref (self));
  else
    gdk_clipboard_read_texture_async (clipboard, NULL, paste_texture_cb, hl_window_weak_ref (self));
}

/* ------------------------------------------------------------ gallery */

/* Thumbnails are decoded in a thread with the project's own decoder. */
static void
thumbs_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  GPtrArray *paths = task_data;
  GPtrArray *textures = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < paths->len; i++)
    {
      hl_image *img = NULL, *small;
      GdkTexture *tex = NULL;

      if (hl_image_load (paths->pdata[i], &img, NULL) == HL_OK)
        {
          double s = (double) THUMB_SIZE / MAX (img->width, img->height);
          int w = MAX (1, (int) (img->width * s)), h = MAX (1, (int) (img->height * s));

          small = hl_image_resize (img, w, h);
          if (small)
            {
              g_autoptr(GBytes) bytes = g_bytes_new (small->rgb, (gsize) w * h * 3);

              tex = gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, (gsize) w * 3);
              hl_image_free (small);
            }
          hl_image_free (img);
        }
      g_ptr_array_add (textures, tex);   /* NULL keeps indices aligned */
    }
  g_task_return_pointer (task, textures, (GDestroyNotify) g_ptr_array_unref);
}

static void
thumbs_done_cb (GObject      *source,
                GAsyncResult *res,
                gpointer      user_data)
{
  g_autoptr(HlWindow) self = hl_window_weak_ref_take (user_data);
  GPtrArray *paths = g_task_get_task_data (G_TASK (res));
  g_autoptr(GPtrArray) textures = g_task_propagate_pointer (G_TASK (res), NULL);

  if (self == NULL || textures == NULL)
    return;
  for (guint i = 0; i < paths->len; i++)
    {
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      g_autofree char *base = g_path_get_basename (paths->pdata[i]);
      char *dot = strrchr (base, '.');
      GtkWidget *pic, *label;

      if (dot)
        *dot = '\0';
      if (textures->pdata[i])
        pic = gtk_picture_new_for_paintable (textures->pdata[i]);
      else
        pic = gtk_image_new_from_icon_name ("image-missing-symbolic");
      if (GTK_IS_PICTURE (pic))
        gtk_picture_set_can_shrink (GTK_PICTURE (pic), TRUE);
      gtk_widget_set_size_request (pic, THUMB_SIZE, THUMB_SIZE * 3 / 4);
      label = gtk_label_new (base);
      gtk_widget_add_css_class (label, "caption");
      gtk_box_append (GTK_BOX (box), pic);
      gtk_box_append (GTK_BOX (box), label);
      gtk_widget_set_tooltip_text (box, paths->pdata[i]);
      g_object_set_data_full (G_OBJECT (box), "hl-path", g_strdup (paths->pdata[i]), g_free);
      gtk_flow_box_append (self->samples_flow, box);
    }
}

void
hl_window_samples_popover_show_cb (HlWindow *self)
{
  g_autoptr(GPtrArray) paths = NULL;
  g_autoptr(GTask) task = NULL;

  if (self->samples_loaded)
    return;
  self->samples_loaded = TRUE;
  paths = hl_data_list_samples ();
  if (paths->len == 0)
    {
      GtkWidget *label = gtk_label_new ("No sample photos installed");

      gtk_flow_box_append (self->samples_flow, label);
      return;
    }
  task = g_task_new (NULL, NULL, thumbs_done_cb, hl_window_weak_ref (self));
  g_task_set_task_data (task, g_ptr_array_ref (paths), (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (task, thumbs_thread);
}

void
hl_window_sample_activated_cb (HlWindow        *self,
                               GtkFlowBoxChild *child)
{
  const char *path = g_object_get_data (G_OBJECT (gtk_flow_box_child_get_child (child)), "hl-path");

  if (path)
    {
      g_autoptr(GFile) file = g_file_new_for_path (path);

      gtk_popover_popdown (self->samples_popover);
      hl_window_open_image (self, file);
    }
}
