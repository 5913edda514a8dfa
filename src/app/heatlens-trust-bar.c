/* HlTrustBar: see heatlens-trust-bar.h. */
#include "heatlens-trust-bar.h"
#include "trust.h"

struct _HlTrustBar
{
  GtkBox     parent_instance;
  GtkLabel  *notice;   /* the brief notice; the full sentence as tooltip */
  GtkLabel  *delta;    /* the delta with its meaning */
};

G_DEFINE_FINAL_TYPE (HlTrustBar, hl_trust_bar, GTK_TYPE_BOX)

static GtkLabel *
new_line (HlTrustBar *self)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_selectable (GTK_LABEL (label), FALSE);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_set_visible (label, FALSE);
  gtk_box_append (GTK_BOX (self), label);
  return GTK_LABEL (label);
}

static void
set_line (GtkLabel   *label,
          const char *text,
          const char *tooltip)
{
  gtk_label_set_text (label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), tooltip);
  gtk_widget_set_visible (GTK_WIDGET (label), text[0] != '\0');
}

void
hl_trust_bar_set_result (HlTrustBar     *self,
                         const hl_model *model,
                         HlResult       *result)
{
  hl_notices notices = { 0 };
  char note[512] = "";
  int large = -1;

  g_return_if_fail (HL_IS_TRUST_BAR (self));
  if (result && model)
    {
      hl_attr_notices (model, result->method, &result->params, &notices);
      large = hl_attr_delta_note (result->method, &result->attr, note, sizeof note);
    }
  if (notices.n > 0)
    {
      g_autofree char *text = g_strdup_printf ("⚠ %s", notices.brief[0]);

      set_line (self->notice, text, notices.line[0]);
    }
  else
    set_line (self->notice, "", NULL);
  set_line (self->delta, note, NULL);
  if (large > 0)
    gtk_widget_add_css_class (GTK_WIDGET (self->delta), "warning");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->delta), "warning");
  gtk_widget_set_visible (GTK_WIDGET (self), notices.n > 0 || note[0] != '\0');
}

const char *
hl_trust_bar_get_notice (HlTrustBar *self)
{
  return gtk_label_get_text (self->notice);
}

const char *
hl_trust_bar_get_delta (HlTrustBar *self)
{
  return gtk_label_get_text (self->delta);
}

static void
hl_trust_bar_class_init (HlTrustBarClass *klass)
{
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "trustbar");
}

static void
hl_trust_bar_init (HlTrustBar *self)
{
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 2);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 10);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 10);
  gtk_widget_set_margin_top (GTK_WIDGET (self), 4);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self), 4);
  self->notice = new_line (self);
  gtk_widget_add_css_class (GTK_WIDGET (self->notice), "warning");
  self->delta = new_line (self);
  gtk_widget_add_css_class (GTK_WIDGET (self->delta), "numeric");
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}
