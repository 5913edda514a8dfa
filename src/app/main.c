/* heatlens: the GTK window. Everything lives in the hl-app library so the
 * tests drive the same code. */
#include "engine.h"
#include "heatlens-application.h"
#include "heatlens-settings-backend.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(HlApplication) app = NULL;
  int status;

  hl_engine_init ();
  if (!hl_have_session_bus ())
    g_setenv ("GTK_A11Y", "none", FALSE);
  app = hl_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);

  return status ? status : hl_application_get_exit_status (app);
}
