/* Where the window's settings are kept. GSettings' default backend is
 * dconf, which needs a D-Bus session: without one (a fresh Debian without
 * dbus-user-session, an ssh session, a bare X server) dconf prints
 * warnings and saves nothing, and without dconf GIO silently keeps the
 * settings in memory. Then the settings go to a keyfile,
 * $XDG_CONFIG_HOME/heatlens/settings.ini, instead. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* NULL = GSettings' default backend (a session bus and dconf are there, or
 * GSETTINGS_BACKEND names one); else a new keyfile backend. */
GSettingsBackend *hl_settings_backend_choose   (void);
/* A D-Bus session bus is reachable (its address, or the user bus socket).
 * Without one, main() turns GTK's accessibility bridge off: it needs the
 * bus and would only print that it cannot reach it. */
gboolean          hl_have_session_bus          (void);
/* The keyfile the fallback uses. */
char             *hl_settings_backend_keyfile  (void);

G_END_DECLS
