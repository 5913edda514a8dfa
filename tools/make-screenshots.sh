#!/bin/sh
# Regenerates the README's window screenshots (docs/screenshot.png and
# docs/teaching-*.png) from the built window, under Xvfb, with in-memory
# settings (so a saved method or size does not leak in). Run from the
# source root after `make build`; then look at each picture.
set -e
HEATLENS=${HEATLENS:-build/src/app/heatlens}
CAT=data/samples/cat.png
export GSK_RENDERER=cairo GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1
shot() {   # SCREEN OUT ARGS...
    screen=$1 out=$2
    shift 2
    xvfb-run -a -s "-screen 0 ${screen}x24" "$HEATLENS" --image "$CAT" "$@" --screenshot "$out"
    echo "wrote $out"
}
# the window as it opens: the top-1 class explained with Saliency
shot 1600x1000 docs/screenshot.png --window-size 1280x800
shot 1600x1000 docs/teaching-explain.png --method integrated_gradients --view explain
shot 1600x1000 docs/teaching-ig-path.png --view ig-path
shot 1600x1000 docs/teaching-layers.png --view layers
# a projector: 1024x768, presentation mode
shot 1024x768 docs/teaching-present.png --window-size 1024x768 --present --method integrated_gradients
shot 1024x768 docs/teaching-all-methods.png --window-size 1024x768 --present --view all-methods
