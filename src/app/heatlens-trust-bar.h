/* HlTrustBar: one line under the picture saying how far to trust it — the
 * method's notice on the loaded graph (hl_attr_notices, e.g. Guided
 * Backprop = the plain gradient on a model without ReLU) and the
 * convergence delta with its meaning (hl_attr_delta_note). The words and
 * the "large" rule are the library's; the bar only shows them. */
#pragma once

#include <gtk/gtk.h>
#include "attr.h"
#include "heatlens-result.h"

G_BEGIN_DECLS

#define HL_TYPE_TRUST_BAR (hl_trust_bar_get_type ())
G_DECLARE_FINAL_TYPE (HlTrustBar, hl_trust_bar, HL, TRUST_BAR, GtkBox)

/* Shows what the library says of result on model; NULL result: hidden. */
void        hl_trust_bar_set_result (HlTrustBar     *self,
                                     const hl_model *model,
                                     HlResult       *result);
/* The notice shown ("" when none) and the delta line ("" when none). */
const char *hl_trust_bar_get_notice (HlTrustBar     *self);
const char *hl_trust_bar_get_delta  (HlTrustBar     *self);
/* The setting the shown notice offers ("relu-family=true", applied by its
 * button through win.set-param), "" when none. */
const char *hl_trust_bar_get_offer  (HlTrustBar     *self);

G_END_DECLS
