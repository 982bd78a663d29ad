#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Per zoo mutant and strategy: executions and seconds until explore reports the first violation
# (median of 5 runs; pct and random use seeds 1..5). Usage: bench/zoo.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
printf "%-32s %-7s %10s %9s\n" mutant strategy executions seconds
for patch in "$here"/tests/zoo/*.patch; do
  name=$(basename "$patch" .patch)
  bin="$build/diosim-zoo-$name"
  [[ -x $bin ]] || continue
  for strategy in dfs dpor pct random; do
    times=() execs=()
    for seed in 1 2 3 4 5; do
      start=$(date +%s.%N)
      out=$("$bin" explore "$here/tests/zoo/$name.json" --strategy "$strategy" --budget 20000 \
              --seed "$seed" --stop-on-violation --quiet 2>/dev/null || true)
      end=$(date +%s.%N)
      first=$(grep -o 'first after [0-9]*' <<<"$out" | head -1 | awk '{print $3}' || true)
      [[ -n $first ]] || first=none
      times+=("$(echo "$end - $start" | bc)") execs+=("$first")
      [[ $strategy == dfs || $strategy == dpor ]] && break # deterministic: one run
    done
    med_t=$(printf "%s\n" "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    med_e=$(printf "%s\n" "${execs[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf "%-32s %-7s %10s %9.2f\n" "$name" "$strategy" "$med_e" "$med_t"
  done
done
