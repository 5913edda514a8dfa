/* HlTrustBar: see heatlens-trust-bar.h. */
#include "heatlens-trust-bar.h"
#include "trust.h"

struct _HlTrustBar
{
  GtkBox     parent_instance;
  GtkLabel  *notice;   /* the brief notice; the full sentence as tooltip */
  GtkLabel  *delta;    /* the delta with its meaning */
  GtkWidget *offer;    /* applies the setting the notice offers */
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
      hl_attr_notices (model, result->method, &result->params, &result->attr, &notices);
      large = hl_attr_delta_note (result->method, &result->attr, note, sizeof note);
    }
  if (notices.n > 0)
    {
      g_autofree char *text = g_strdup_printf ("⚠ %s", notices.brief[0]);

      set_line (self->notice, text, notices.line[0]);
    }
  else
    set_line (self->notice, "", NULL);
  /* the library's offer ("relu-family=true"), as the set-param action */
  gtk_widget_set_visible (self->offer, notices.n > 0 && notices.offer[0][0]);
  if (notices.n > 0 && notices.offer[0][0])
    gtk_actionable_set_action_target (GTK_ACTIONABLE (self->offer), "s", notices.offer[0]);
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
hl_trust_bar_get_offer (HlTrustBar *self)
{
  GVariant *target = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (self->offer));

  if (!gtk_widget_get_visible (self->offer) || target == NULL)
    return "";
  return g_variant_get_string (target, NULL);
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
  {
    GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);

    g_object_ref (self->notice);
    gtk_box_remove (GTK_BOX (self), GTK_WIDGET (self->notice));
    gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->notice));
    g_object_unref (self->notice);
    self->offer = gtk_button_new_with_label ("Apply the rule to ReLU6 too");
    gtk_widget_set_name (self->offer, "trust-offer");
    gtk_widget_set_tooltip_text (self->offer, "Turn on the ReLU-family option (relu-family): "
                                 "the method's rule then also applies to Clip/ReLU6 and the "
                                 "other elementwise activations, beyond Captum");
    gtk_actionable_set_action_target (GTK_ACTIONABLE (self->offer), "s", "");
    gtk_actionable_set_action_name (GTK_ACTIONABLE (self->offer), "win.set-param");
    gtk_widget_add_css_class (self->offer, "flat");
    gtk_widget_set_visible (self->offer, FALSE);
    gtk_box_append (GTK_BOX (row), self->offer);
    gtk_box_prepend (GTK_BOX (self), row);
  }
  self->delta = new_line (self);
  gtk_widget_add_css_class (GTK_WIDGET (self->delta), "numeric");
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}
