#!/usr/bin/env bash
# make demo: the main job on the bundled programs and data; says where the results are.
set -euo pipefail
out=${1:-out/demo}
bin=.venv/bin
mkdir -p "$out"
echo "== Validating every bundled program and scenario"
"$bin/loyalsim" validate programs scenarios
"$bin/loyalsim" validate programs scenarios --format sarif --output "$out/validate.sarif"
"$bin/loyalsim" validate programs scenarios --format json --output "$out/validate.json"
echo
echo "== Explaining the coffee-stars program"
"$bin/loyalsim" explain programs/coffee-stars.yaml | tee "$out/coffee-stars.explain.txt"
for program in programs/*.yaml; do
  "$bin/loyalsim" explain "$program" --format json --output "$out/$(basename "$program" .yaml).explain.json"
done
echo "== Replaying the CDNOW transactions (2,357 real customers, 1997-1998) through coffee-stars"
"$bin/loyalsim" earn programs/coffee-stars.yaml tests/data/cdnow/cdnow_sample.csv \
  --redeem auto --format parquet --out "$out/coffee-stars-cdnow.parquet"
"$bin/loyalsim" earn programs/coffee-stars.yaml tests/data/cdnow/cdnow_sample.csv \
  --redeem auto --out "$out/coffee-stars-cdnow.csv" 2>/dev/null
echo "== Fitting BG/NBD and Gamma-Gamma to the CDNOW sample (calibration 1997-01 to 1997-09, holdout to 1998-06)"
"$bin/loyalsim" fit purchases tests/data/cdnow/cdnow_sample.csv --calibration-end 1997-09-30 \
  --holdout-end 1998-06-30 --out "$out/cdnow-segment.yaml"
echo "== Simulating coffee-stars on the coffee-baseline scenario (docs/simulate.md says what is modelled)"
"$bin/loyalsim" simulate programs/coffee-stars.yaml scenarios/coffee-baseline.yaml --replications 3 \
  --out "$out/simulation"
echo "== Forecasting the CDNOW customers as a program's book from 1997-09-30, beside what followed"
"$bin/loyalsim" backtest programs/classic-rewards.yaml scenarios/cdnow-book.yaml --until 1998-06-30 \
  --out "$out/backtest"
echo
echo "Results in $out/:"
echo "  validate.json, validate.sarif             validation reports"
echo "  *.explain.json, coffee-stars.explain.txt  every program explained"
echo "  coffee-stars-cdnow.{csv,parquet}          points per customer per month (+ .totals)"
echo "  cdnow-segment.{yaml,report.html}          BG/NBD + Gamma-Gamma fitted to CDNOW, with its holdout report"
echo "  simulation/                               monthly results (program and control), summary.json, report.html"
echo "  backtest/backtest.html                    the CDNOW book's forecast against the nine months that followed"
