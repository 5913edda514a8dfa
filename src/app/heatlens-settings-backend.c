/* The settings backend (see heatlens-settings-backend.h). */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "heatlens-settings-backend.h"

#define HL_SETTINGS_PATH "/org/heatlens/Heatlens/"

char *
hl_settings_backend_keyfile (void)
{
  return g_build_filename (g_get_user_config_dir (), "heatlens", "settings.ini", NULL);
}

gboolean
hl_have_session_bus (void)
{
  const char *runtime = g_getenv ("XDG_RUNTIME_DIR");
  g_autofree char *socket = runtime ? g_build_filename (runtime, "bus", NULL) : NULL;

  /* what GDBus tries: the address in the environment, then the
   * systemd user bus socket */
  return (g_getenv ("DBUS_SESSION_BUS_ADDRESS") && *g_getenv ("DBUS_SESSION_BUS_ADDRESS")) ||
         (socket && g_file_test (socket, G_FILE_TEST_EXISTS));
}

GSettingsBackend *
hl_settings_backend_choose (void)
{
  GSettingsBackend *fallback;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;

  /* asked for by name (the tests' "memory"): as asked */
  if (g_getenv ("GSETTINGS_BACKEND"))
    return NULL;
  if (hl_have_session_bus () &&
      g_strcmp0 (G_OBJECT_TYPE_NAME (g_settings_backend_get_default ()), "GMemorySettingsBackend") != 0)
    return NULL;
  path = hl_settings_backend_keyfile ();
  dir = g_path_get_dirname (path);
  g_mkdir_with_parents (dir, 0700);
  /* keys directly under the path go to the [heatlens] group */
  fallback = g_keyfile_settings_backend_new (path, HL_SETTINGS_PATH, "heatlens");
  return fallback;
}
