#!/usr/bin/env bash
# Rebuilds the report screenshots in docs/images/ (README "Reports"): two ring8 runs
# (the recipe and the toy2d defaults), a short digits DCGAN, their reports, a comparison,
# and headless-Chromium screenshots. Usage: scripts/report_screenshots.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/ganforge-report-shots}"
rm -rf "$work" && mkdir -p "$work"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
gf() { python -m ganforge "$@"; }
gf train --config recipes/ring8.yaml --steps 3000 --sample-every 500 --threads 1 --quiet \
  --out "$work/ring8-recipe"
gf train --dataset ring8 --steps 3000 --sample-every 500 --threads 1 --quiet \
  --out "$work/ring8-defaults"
gf train --dataset digits --steps 600 --sample-every 100 --base-width 16 --batch-size 64 \
  --eval-samples 1000 --threads 1 --quiet --out "$work/digits-dcgan"
gf report "$work/ring8-recipe" "$work/ring8-defaults" --out "$work/compare.html"
shot() {  # page, png, height
  chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --host-resolver-rules="MAP * ~NOTFOUND" --window-size="1280,$3" \
    --screenshot="$2" "file://$1" >/dev/null 2>&1
}
shot "$work/ring8-recipe/report.html" docs/images/report-ring8.png 2300
shot "$work/digits-dcgan/report.html" docs/images/report-digits.png 2300
shot "$work/compare.html" docs/images/report-compare.png 2900

python - <<'PY'  # 256-colour palettes: a third of the size, no visible change
from PIL import Image
for name in ("ring8", "digits", "compare"):
    path = f"docs/images/report-{name}.png"
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
PY
ls -l docs/images/report-*.png
