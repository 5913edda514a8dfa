/* Settings without a D-Bus session: they go to a keyfile under
 * $XDG_CONFIG_HOME and come back in the next run; a backend named by
 * GSETTINGS_BACKEND is used as named. The environment is set up here,
 * before GIO reads it: no bus address, an empty runtime directory, a
 * temporary config directory. */
#include <string.h>
#include <glib/gstdio.h>

#include "heatlens-data.h"
#include "heatlens-settings-backend.h"

static char *tmpdir;

static void
test_no_bus_keyfile_round_trip (void)
{
  g_autofree char *path = hl_settings_backend_keyfile ();
  g_autofree char *text = NULL;
  g_autofree char *back = NULL;

  g_assert_false (hl_have_session_bus ());
  g_assert_true (g_str_has_prefix (path, tmpdir));
  {
    g_autoptr(GSettings) s = hl_settings_new (NULL);

    g_assert_nonnull (s);
    g_assert_true (g_settings_set_string (s, "last-model", "/models/resnet18.onnx"));
    g_settings_sync ();
  }
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_test_message ("%s:\n%s", path, text);
  g_assert_nonnull (strstr (text, "last-model='/models/resnet18.onnx'"));
  {
    /* the next run reads it back */
    g_autoptr(GSettings) s = hl_settings_new (NULL);

    back = g_settings_get_string (s, "last-model");
  }
  g_assert_cmpstr (back, ==, "/models/resnet18.onnx");
}

static void
test_named_backend_is_kept (void)
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_assert_null (hl_settings_backend_choose ());
  g_unsetenv ("GSETTINGS_BACKEND");
}

int
main (int argc, char **argv)
{
  g_autofree char *runtime = NULL;
  g_autofree char *config = NULL;
  int status;

  tmpdir = g_dir_make_tmp ("heatlens-settings-XXXXXX", NULL);
  runtime = g_build_filename (tmpdir, "runtime", NULL);
  config = g_build_filename (tmpdir, "config", NULL);
  g_mkdir (runtime, 0700);
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
  g_unsetenv ("GSETTINGS_BACKEND");
  g_setenv ("XDG_RUNTIME_DIR", runtime, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/settings/no-bus/keyfile-round-trip", test_no_bus_keyfile_round_trip);
  g_test_add_func ("/settings/named-backend-kept", test_named_backend_is_kept);
  status = g_test_run ();
  {
    g_autofree char *ini = g_build_filename (config, "heatlens", "settings.ini", NULL);
    g_autofree char *dir = g_path_get_dirname (ini);

    g_unlink (ini);
    g_rmdir (dir);
    g_rmdir (config);
    g_rmdir (runtime);
    g_rmdir (tmpdir);
  }
  return status;
}
