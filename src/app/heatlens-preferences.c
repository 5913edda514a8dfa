/* The preferences window: the engine's memory limit (issue 16). The window
 * only shows and stores the setting; the engine decides the default (half
 * the physical memory, hl_default_max_memory) and does the refusing. */
#include "heatlens-preferences.h"

#include "engine.h"

static void
memory_limit_changed_cb (GSettings  *settings,
                         const char *key,
                         gpointer    user_data)
{
  int mib = g_settings_get_int (settings, "max-memory-mib");

  (void) key;
  (void) user_data;
  hl_set_max_memory (mib > 0 ? (uint64_t) mib << 20 : 0);
}

void
hl_preferences_track_memory_limit (GSettings *settings)
{
  g_signal_connect (settings, "changed::max-memory-mib",
                    G_CALLBACK (memory_limit_changed_cb), NULL);
  memory_limit_changed_cb (settings, "max-memory-mib", NULL);
}

GtkWindow *
hl_preferences_new (GtkWindow *parent,
                    GSettings *settings)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new_with_mnemonic ("_Memory limit (MiB)");
  GtkWidget *spin = gtk_spin_button_new_with_range (0, (double) (hl_physical_memory () >> 20), 256);
  g_autofree char *note = g_strdup_printf ("0: the default, %llu MiB (half of this computer's "
                                           "memory). A model or a method that needs more is "
                                           "refused with a message instead of running out of memory.",
                                           (unsigned long long) (hl_default_max_memory () >> 20));
  GtkWidget *caption = gtk_label_new (note);

  gtk_window_set_title (window, "Preferences");
  gtk_window_set_transient_for (window, parent);
  gtk_window_set_destroy_with_parent (window, TRUE);
  gtk_window_set_default_size (window, 420, -1);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), spin);
  gtk_widget_set_name (spin, "memory-limit");
  gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_widget_add_css_class (caption, "dim-label");
  gtk_widget_add_css_class (caption, "caption");
  g_settings_bind (settings, "max-memory-mib", spin, "value", G_SETTINGS_BIND_DEFAULT);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), spin);
  gtk_box_append (GTK_BOX (box), row);
  gtk_box_append (GTK_BOX (box), caption);
  gtk_window_set_child (window, box);
  return window;
}
