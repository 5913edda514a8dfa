#include "heatlens-data.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include <string.h>

/* Programs inside the build tree (heatlens, the tests) read the source
 * tree's data first; an installed heatlens reads the installed copy first. */
static gboolean
running_from_build_tree (void)
{
#ifdef HL_APP_BUILD_ROOT
  static gsize done = 0;
  static gboolean inside = FALSE;

  if (g_once_init_enter (&done))
    {
      g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

      inside = exe && g_str_has_prefix (exe, HL_APP_BUILD_ROOT "/");
      g_once_init_leave (&done, 1);
    }
  return inside;
#else
  return FALSE;
#endif
}

static const char *
data_dirs (int i)
{
  const char *env = g_getenv ("HEATLENS_DATADIR");
  const char *source = NULL, *installed = NULL;

#ifdef HL_SOURCE_DATADIR
  source = HL_SOURCE_DATADIR;
#endif
#ifdef HL_DATADIR
  installed = HL_DATADIR;
#endif
  switch (i)
    {
    case 0: return env && *env ? env : NULL;
    case 1: return running_from_build_tree () ? source : installed;
    case 2: return running_from_build_tree () ? installed : source;
    default: return NULL;
    }
}

char *
hl_data_find_file (const char *relative)
{
  for (int i = 0; i < 3; i++)
    {
      const char *dir = data_dirs (i);
      g_autofree char *path = NULL;

      if (dir == NULL)
        continue;
      path = g_build_filename (dir, relative, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

char *
hl_data_default_model (void)
{
  return hl_data_find_file ("models/mobilenet_v2.onnx");
}

static gboolean
is_photo_name (const char *name)
{
  return g_str_has_suffix (name, ".png") || g_str_has_suffix (name, ".jpg") ||
         g_str_has_suffix (name, ".jpeg") || g_str_has_suffix (name, ".bmp") ||
         g_str_has_suffix (name, ".PNG") || g_str_has_suffix (name, ".JPG") ||
         g_str_has_suffix (name, ".BMP");
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

GPtrArray *
hl_data_list_samples (void)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  /* The first data dir that has a samples folder wins, so a build-tree run
   * does not mix in an older installed copy. */
  for (int i = 0; i < 3 && out->len == 0; i++)
    {
      const char *dir = data_dirs (i);
      g_autofree char *samples = NULL;
      g_autoptr(GDir) gdir = NULL;
      const char *name;

      if (dir == NULL)
        continue;
      samples = g_build_filename (dir, "samples", NULL);
      gdir = g_dir_open (samples, 0, NULL);
      if (gdir == NULL)
        continue;
      while ((name = g_dir_read_name (gdir)) != NULL)
        if (is_photo_name (name))
          g_ptr_array_add (out, g_build_filename (samples, name, NULL));
    }
  g_ptr_array_sort (out, compare_paths);
  return out;
}

char *
hl_data_find_sample (const char *name)
{
  g_autoptr(GPtrArray) all = hl_data_list_samples ();

  for (guint i = 0; i < all->len; i++)
    {
      g_autofree char *base = g_path_get_basename (all->pdata[i]);
      char *dot = strrchr (base, '.');

      if (dot)
        *dot = '\0';
      if (g_strcmp0 (base, name) == 0)
        return g_strdup (all->pdata[i]);
    }
  return NULL;
}

#define HL_SCHEMA_ID "org.heatlens.Heatlens"
#define HL_SCHEMA_PATH "/org/heatlens/Heatlens/"

/* Where settings are kept: GLib's default (dconf) when a session bus can
 * reach it, else a key file in the user's config folder, so a desktop
 * without dconf or a session bus still remembers them, with no dbus
 * warnings. GSETTINGS_BACKEND, when set, is the user's choice. */
static GSettingsBackend *
settings_backend (void)
{
  g_autofree char *bus = g_build_filename (g_get_user_runtime_dir (), "bus", NULL);
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "heatlens", NULL);
  g_autofree char *file = g_build_filename (dir, "settings.ini", NULL);

  if (g_getenv ("GSETTINGS_BACKEND"))
    return NULL;
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") || g_file_test (bus, G_FILE_TEST_EXISTS))
    {
      GSettingsBackend *def = g_settings_backend_get_default ();
      gboolean memory = g_str_equal (G_OBJECT_TYPE_NAME (def), "GMemorySettingsBackend");

      g_object_unref (def);
      if (!memory)
        return NULL;
    }
  g_mkdir_with_parents (dir, 0700);
  return g_keyfile_settings_backend_new (file, HL_SCHEMA_PATH, NULL);
}

GSettings *
hl_settings_new (GError **error)
{
  GSettingsSchemaSource *def = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = def ? g_settings_schema_source_lookup (def, HL_SCHEMA_ID, TRUE) : NULL;
  g_autoptr(GSettingsBackend) backend = NULL;

#ifdef HL_APP_BUILD_ROOT
  if (schema == NULL)
    {
      g_autoptr(GSettingsSchemaSource) src =
        g_settings_schema_source_new_from_directory (HL_APP_BUILD_ROOT "/data", def, FALSE, NULL);

      if (src)
        schema = g_settings_schema_source_lookup (src, HL_SCHEMA_ID, TRUE);
    }
#endif
  if (schema == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "the settings schema %s is not installed (run `meson install`, "
                   "or set GSETTINGS_SCHEMA_DIR to the folder of its gschemas.compiled)",
                   HL_SCHEMA_ID);
      return NULL;
    }
  backend = settings_backend ();
  return g_settings_new_full (schema, backend, NULL);
}
