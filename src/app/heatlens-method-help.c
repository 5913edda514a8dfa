/* HlMethodHelp: a method's explanation from data/methods/methods.ini. */
#include "heatlens-method-help.h"
#include "attr.h"

#define TEXTS_RESOURCE "/org/heatlens/Heatlens/methods.ini"

struct _HlMethodHelp
{
  GtkWindow  parent_instance;

  GtkLabel  *title_label;
  GtkLabel  *captum_label;
  GtkLabel  *formula_label;
  GtkGrid   *sections_grid;

  char      *method;
};

G_DEFINE_FINAL_TYPE (HlMethodHelp, hl_method_help, GTK_TYPE_WINDOW)

const char *const hl_method_help_keys[] = {
  "Captum", "Formula", "Computes", "Colours", "Cost", "Fails", NULL
};

/* The prose sections, in order, with their headings. */
static const struct { const char *key; const char *heading; } sections[] = {
  { "Computes", "What it computes" },
  { "Colours", "Colours and sign" },
  { "Cost", "Cost" },
  { "Fails", "When it misleads" },
};

GKeyFile *
hl_method_help_get_texts (GError **error)
{
  static GKeyFile *texts;

  if (texts == NULL)
    {
      g_autoptr(GBytes) bytes = g_resources_lookup_data (TEXTS_RESOURCE, 0, error);
      g_autoptr(GKeyFile) kf = g_key_file_new ();

      if (bytes == NULL || !g_key_file_load_from_bytes (kf, bytes, G_KEY_FILE_NONE, error))
        return NULL;
      texts = g_steal_pointer (&kf);
    }
  return texts;
}

static void
clear_grid (GtkGrid *grid)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (grid))))
    gtk_grid_remove (grid, child);
}

static void
add_section (GtkGrid    *grid,
             int         row,
             const char *heading,
             const char *text)
{
  GtkWidget *h = gtk_label_new (heading);
  GtkWidget *t = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (h), 0);
  gtk_label_set_yalign (GTK_LABEL (h), 0);
  gtk_widget_add_css_class (h, "heading");
  gtk_label_set_xalign (GTK_LABEL (t), 0);
  gtk_label_set_wrap (GTK_LABEL (t), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (t), 60);
  gtk_widget_set_hexpand (t, TRUE);
  gtk_grid_attach (grid, h, 0, row, 1, 1);
  gtk_grid_attach (grid, t, 1, row, 1, 1);
}

void
hl_method_help_set_method (HlMethodHelp *self,
                           const char   *method)
{
  const hl_method_desc *md = hl_method_find (method);
  g_autoptr(GError) error = NULL;
  GKeyFile *texts = hl_method_help_get_texts (&error);
  g_autofree char *formula = NULL;
  g_autofree char *captum = NULL;

  g_return_if_fail (HL_IS_METHOD_HELP (self));
  g_free (self->method);
  self->method = g_strdup (method);
  clear_grid (self->sections_grid);
  gtk_label_set_text (self->title_label, md ? md->title : method);
  gtk_window_set_title (GTK_WINDOW (self), md ? md->title : method);
  if (texts)
    {
      captum = g_key_file_get_string (texts, method, "Captum", &error);
      formula = g_key_file_get_string (texts, method, "Formula", NULL);
    }
  if (captum == NULL)
    {
      /* an unknown method or a missing text: say so rather than show blanks */
      gtk_label_set_text (self->captum_label, error ? error->message : "no explanation");
      gtk_label_set_text (self->formula_label, "");
      return;
    }
  gtk_label_set_text (self->captum_label, captum);
  gtk_label_set_markup (self->formula_label, formula ? formula : "");
  for (guint i = 0; i < G_N_ELEMENTS (sections); i++)
    {
      g_autofree char *text = g_key_file_get_string (texts, method, sections[i].key, NULL);

      add_section (self->sections_grid, (int) i, sections[i].heading, text ? text : "");
    }
}

const char *
hl_method_help_get_method (HlMethodHelp *self)
{
  return self->method;
}

HlMethodHelp *
hl_method_help_new (GtkWindow  *parent,
                    const char *method)
{
  HlMethodHelp *self = g_object_new (HL_TYPE_METHOD_HELP,
                                     "transient-for", parent,
                                     NULL);

  hl_method_help_set_method (self, method);
  return self;
}

static void
hl_method_help_finalize (GObject *object)
{
  g_free (HL_METHOD_HELP (object)->method);
  G_OBJECT_CLASS (hl_method_help_parent_class)->finalize (object);
}

static void
hl_method_help_class_init (HlMethodHelpClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = hl_method_help_finalize;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/heatlens/Heatlens/ui/heatlens-method-help.ui");
  gtk_widget_class_bind_template_child (widget_class, HlMethodHelp, title_label);
  gtk_widget_class_bind_template_child (widget_class, HlMethodHelp, captum_label);
  gtk_widget_class_bind_template_child (widget_class, HlMethodHelp, formula_label);
  gtk_widget_class_bind_template_child (widget_class, HlMethodHelp, sections_grid);
}

static void
hl_method_help_init (HlMethodHelp *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
