/* heatlens: the GTK window. Everything lives in the hl-app library so the
 * tests drive the same code. */
#include "engine.h"
#include "heatlens-application.h"

int
main (int   argc,
      char *argv[])
{
  hl_engine_init ();
  g_autoptr(HlApplication) app = hl_application_new ();
  int status = g_application_run (G_APPLICATION (app), argc, argv);

  return status ? status : hl_application_get_exit_status (app);
}
