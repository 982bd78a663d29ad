#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs the libFuzzer targets of fuzz/ (built in BUILD with -DDIOSIM_FUZZ=ON) for a fixed number
# of runs each, seeded from the repository, and fails unless each did all its runs cleanly.
#
#   fuzz/run.sh BUILD SCENARIO_RUNS TOKEN_RUNS [CORPUS_DIR]
#
# Seeds: scenarios/*.json, tests/fixtures/*.json, tests/golden/*.json and tests/bad/*.json for
# the scenario target; every v2: token quoted in tests/, docs/ and README.md for the token
# target. Without CORPUS_DIR the corpora are fresh temporary folders and libFuzzer's seed is
# fixed (-seed=1), so a CI run does the same work each time; with CORPUS_DIR the corpora grow
# there from one run to the next (make fuzz-parsers). Limits per input: -timeout=5 (seconds),
# -rss_limit_mb=2048; a crash, a leak, a timeout or an out-of-memory stops the target, leaves
# the input in BUILD/fuzz-artifacts/ and fails this script.
set -euo pipefail
build=${1:?usage: fuzz/run.sh BUILD SCENARIO_RUNS TOKEN_RUNS [CORPUS_DIR]}
scenario_runs=${2:?scenario runs}
token_runs=${3:?token runs}
corpus_dir=${4:-}
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)

for t in fuzz-scenario fuzz-schedule-token; do
  [[ -x $build/fuzz/$t ]] || { echo "fuzz/run.sh: $build/fuzz/$t is missing (configure with -DDIOSIM_FUZZ=ON and build it)" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/seed-scenario" "$tmp/seed-token" "$build/fuzz-artifacts"
for f in "$src"/scenarios/*.json "$src"/tests/fixtures/*.json "$src"/tests/golden/*.json "$src"/tests/bad/*.json; do
  case $f in */schema.json | *.trace.json) continue ;; esac
  cp "$f" "$tmp/seed-scenario/$(basename "$(dirname "$f")")-$(basename "$f")"
done
n=0
while read -r token; do
  printf '%s' "$token" >"$tmp/seed-token/token-$n"
  n=$((n + 1))
done < <(grep -rhoE 'v2:[0-9a-z.*@ef]*' "$src/tests" "$src/docs" "$src/README.md" | sort -u)

if [[ -n $corpus_dir ]]; then
  mkdir -p "$corpus_dir/scenario" "$corpus_dir/token"
  corpus_scenario=$corpus_dir/scenario corpus_token=$corpus_dir/token seed_flag=()
else
  mkdir -p "$tmp/corpus-scenario" "$tmp/corpus-token"
  corpus_scenario=$tmp/corpus-scenario corpus_token=$tmp/corpus-token seed_flag=(-seed=1)
fi

# run TARGET RUNS CORPUS SEEDS [flags...]: libFuzzer's last line must be "Done RUNS runs".
run() {
  local target=$1 runs=$2 corpus=$3 seeds=$4
  shift 4
  local log=$build/fuzz-artifacts/$target.log
  echo "fuzz/run.sh: $target, $runs runs (log: $log)"
  if ! ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0 \
    "$build/fuzz/$target" -runs="$runs" -timeout=5 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$target-" "${seed_flag[@]}" "$@" \
    "$corpus" "$seeds" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz/run.sh: $target FAILED; the input is in $build/fuzz-artifacts/" >&2
    return 1
  fi
  if ! grep -q "^Done $runs runs" "$log"; then
    tail -n 20 "$log" >&2
    echo "fuzz/run.sh: $target did not do its $runs runs" >&2
    return 1
  fi
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$log"
  echo "  corpus: $(find "$corpus" -type f | wc -l) files"
}
run fuzz-scenario "$scenario_runs" "$corpus_scenario" "$tmp/seed-scenario" -dict="$src/fuzz/scenario.dict"
run fuzz-schedule-token "$token_runs" "$corpus_token" "$tmp/seed-token"
