#!/usr/bin/env bash
# make demo: the main job on the bundled programs and scenarios; says where the reports are.
set -euo pipefail
out=${1:-out/demo}
bin=.venv/bin
mkdir -p "$out"
echo "== Validating every bundled program and scenario"
"$bin/loyalsim" validate programs scenarios
"$bin/loyalsim" validate programs scenarios --format sarif --output "$out/validate.sarif"
"$bin/loyalsim" validate programs scenarios --format json --output "$out/validate.json"
echo
echo "Reports written to $out/ (validate.json, validate.sarif)"
