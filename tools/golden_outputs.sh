#!/usr/bin/env bash
# Every command's outputs on every bundled program and scenario, into one folder, so that a
# change meant to alter no behaviour can be proved to: run it before and after, then
#   diff -r -x '*.err' BEFORE AFTER        (no output: byte-identical)
# Standard error (*.err) holds timings, so it is kept for reading but not compared.
# Usage: bash tools/golden_outputs.sh OUT_DIR
set -euo pipefail
out=${1:?usage: tools/golden_outputs.sh OUT_DIR}
bin=${BIN:-.venv/bin}
cdnow=tests/data/cdnow/cdnow_sample.csv
rm -rf "$out"
mkdir -p "$out"
run() {  # run NAME ARGS...: stdout to NAME.out, exit code to NAME.rc; stderr kept apart
  local name=$1
  shift
  set +e
  "$bin/loyalsim" "$@" >"$out/$name.out" 2>"$out/$name.err"
  echo $? >"$out/$name.rc"
  set -e
  # the output folder's own name is not an output: two runs into two folders compare equal
  sed -i "s|$out|OUT|g" "$out/$name.out"
}
run validate validate programs scenarios --format json
run validate-sarif validate programs scenarios --format sarif
for program in programs/*.yaml; do
  name=$(basename "$program" .yaml)
  run "explain-$name" explain "$program" --format json
  run "earn-$name-csv" earn "$program" "$cdnow" --redeem auto --out "$out/earn-$name.csv"
  run "earn-$name-parquet" earn "$program" "$cdnow" --redeem auto --format parquet \
    --out "$out/earn-$name.parquet"
  run "earn-$name-json" earn "$program" "$cdnow" --format json
done
for scenario in scenarios/*.yaml; do
  name=$(basename "$scenario" .yaml)
  program=$(sed -n 's/^programs: \[\.\.\/\(programs\/[a-z-]*\.yaml\)\].*/\1/p' "$scenario")
  run "simulate-$name" simulate "$program" "$scenario" --replications 3 --out "$out/simulate-$name"
  run "simulate-$name-json" simulate "$program" "$scenario" --replications 2 --format json
  run "trace-$name" trace "$program" "$scenario" --customer 3 --format json
done
run compare compare programs/coffee-stars.yaml programs/classic-rewards.yaml \
  scenarios/coffee-baseline.yaml --replications 3 --out "$out/compare" --format json
run sweep sweep programs/coffee-stars.yaml scenarios/coffee-baseline.yaml \
  --set 'earn[0].rate=1,2' --replications 2 --out "$out/sweep" --format json
run sensitivity sensitivity programs/coffee-stars.yaml scenarios/coffee-baseline.yaml \
  --replications 2 --out "$out/sensitivity" --format json
run check check scenarios --replications 2 --format json
run report report "$out/simulate-coffee-baseline"
printf 'period,sales,points_issued,points_redeemed,expected_redemption_rate,point_value\n2027-Q1,1000,1000,200,0.8,0.01\n2027-Q2,500,500,400,0.6,0.01\n' \
  >"$out/ledger.csv"
run account account "$out/ledger.csv" --format json
run fit-purchases fit purchases "$cdnow" --calibration-end 1997-09-30 --holdout-end 1998-06-30 \
  --format json
run fit-purchases-out fit purchases "$cdnow" --calibration-end 1997-09-30 --holdout-end 1998-06-30 \
  --out "$out/fit/segment.yaml" --format json
printf 'period,members\n0,1000\n1,869\n2,743\n3,653\n4,593\n5,551\n6,517\n7,491\n' >"$out/counts.csv"
run fit-retention fit retention "$out/counts.csv" --column members --format json
echo "outputs in $out"
