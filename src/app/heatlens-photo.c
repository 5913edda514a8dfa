#include "heatlens-photo.h"
#include "heatlens-error.h"

struct _HlPhoto
{
  GObject     parent_instance;
  hl_image   *image;
  GdkTexture *texture;
  char       *name;
  char       *path;
  guint       serial;
};

G_DEFINE_FINAL_TYPE (HlPhoto, hl_photo, G_TYPE_OBJECT)

static void
hl_photo_finalize (GObject *object)
{
  HlPhoto *self = HL_PHOTO (object);

  g_clear_pointer (&self->image, hl_image_free);
  g_clear_object (&self->texture);
  g_free (self->name);
  g_free (self->path);
  G_OBJECT_CLASS (hl_photo_parent_class)->finalize (object);
}

static void
hl_photo_class_init (HlPhotoClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hl_photo_finalize;
}

static void
hl_photo_init (HlPhoto *self)
{
  static guint next_serial = 1;

  self->serial = g_atomic_int_add (&next_serial, 1);
}

/* Takes ownership of image. The texture shares nothing with it: GdkTexture
 * wants its own immutable bytes. */
static HlPhoto *
photo_new (hl_image   *image,
           const char *name,
           const char *path)
{
  HlPhoto *self = g_object_new (HL_TYPE_PHOTO, NULL);
  gsize stride = (gsize) image->width * 3;
  g_autoptr(GBytes) bytes = g_bytes_new (image->rgb, stride * (gsize) image->height);

  self->image = image;
  self->texture = gdk_memory_texture_new (image->width, image->height,
                                          GDK_MEMORY_R8G8B8, bytes, stride);
  self->name = g_strdup (name);
  self->path = g_strdup (path);
  return self;
}

typedef struct
{
  char   *path;
  GFile  *file;    /* not a local file: read its bytes in the thread */
  GBytes *bytes;
  char   *name;
} LoadData;

static void
load_data_free (gpointer data)
{
  LoadData *ld = data;

  g_free (ld->path);
  g_clear_object (&ld->file);
  g_clear_pointer (&ld->bytes, g_bytes_unref);
  g_free (ld->name);
  g_free (ld);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *ld = task_data;
  hl_error err = { 0 };
  hl_image *image = NULL;
  hl_status st;

  if (ld->path == NULL && ld->bytes == NULL && ld->file)
    {
      GError *error = NULL;
      char *contents = NULL;
      gsize len = 0;

      if (!g_file_load_contents (ld->file, cancellable, &contents, &len, NULL, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      ld->bytes = g_bytes_new_take (contents, len);
    }
  if (ld->path)
    st = hl_image_load (ld->path, &image, &err);
  else
    st = hl_image_load_buffer (g_bytes_get_data (ld->bytes, NULL),
                               g_bytes_get_size (ld->bytes), ld->name,
                               &image, &err);
  if (st != HL_OK)
    {
      GError *error = NULL;

      hl_app_error_from_hl (&error, &err);
      g_task_return_error (task, error);
      return;
    }
  /* GdkMemoryTexture creation is thread-safe (no GL involved). */
  g_task_return_pointer (task, photo_new (image, ld->name, ld->path),
                         g_object_unref);
}

static void
start_load (LoadData            *ld,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, hl_photo_load_file_async);
  g_task_set_task_data (task, ld, load_data_free);
  g_task_run_in_thread (task, load_thread);
}

void
hl_photo_load_file_async (GFile               *file,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  LoadData *ld = g_new0 (LoadData, 1);

  ld->path = g_file_get_path (file);
  ld->name = g_file_get_basename (file);
  if (ld->path == NULL)
    ld->file = g_object_ref (file);
  start_load (ld, cancellable, callback, user_data);
}

void
hl_photo_load_bytes_async (GBytes              *bytes,
                           const char          *display_name,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  LoadData *ld = g_new0 (LoadData, 1);

  ld->bytes = g_bytes_ref (bytes);
  ld->name = g_strdup (display_name);
  start_load (ld, cancellable, callback, user_data);
}

HlPhoto *
hl_photo_load_finish (GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

HlPhoto *
hl_photo_new_from_texture (GdkTexture *texture,
                           const char *display_name)
{
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  gsize stride = (gsize) w * 4;
  g_autofree guchar *argb = g_malloc (stride * (gsize) h);
  hl_image *image = hl_image_new (w, h);

  if (image == NULL)
    return NULL;
  /* Premultiplied BGRA (cairo ARGB32 on little endian): compositing on
   * white is c + (255 - a). */
  gdk_texture_download (texture, argb, stride);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guchar *px = argb + (gsize) y * stride + (gsize) x * 4;
        guint8 *out = image->rgb + ((gsize) y * w + x) * 3;
        int white = 255 - px[3];

        out[0] = (guint8) MIN (255, px[2] + white);
        out[1] = (guint8) MIN (255, px[1] + white);
        out[2] = (guint8) MIN (255, px[0] + white);
      }
  return photo_new (image, display_name, NULL);
}

const hl_image *
hl_photo_get_image (HlPhoto *self)
{
  return self->image;
}

GdkTexture *
hl_photo_get_texture (HlPhoto *self)
{
  return self->texture;
}

const char *
hl_photo_get_name (HlPhoto *self)
{
  return self->name;
}

const char *
hl_photo_get_path (HlPhoto *self)
{
  return self->path;
}

guint
hl_photo_get_serial (HlPhoto *self)
{
  return self->serial;
}
