#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bug zoo seed sweep: run BINARY on SCENARIO once per seed and report the first failing seed.
#
#   tests/zoo/sweep.sh BINARY SCENARIO SEEDS
#
# SEEDS is N (seeds 1..N) or FIRST..LAST. Explore-mode scenarios draw every scheduling
# decision from the seed, so a sweep samples that many schedules.
# Exit 0: every seed clean. Exit 1: a seed violated (printed with the violation and the
# replay command). Exit 2: bad usage, or the binary failed otherwise (exit >= 2) on a seed.
set -u
if [ $# -ne 3 ]; then
  echo "usage: $0 BINARY SCENARIO SEEDS   (SEEDS: N or FIRST..LAST)" >&2
  exit 2
fi
bin=$1 scenario=$2 seeds=$3
case $seeds in
  *..*) first=${seeds%%..*} last=${seeds##*..} ;;
  *) first=1 last=$seeds ;;
esac
if ! [[ $first =~ ^[0-9]+$ && $last =~ ^[0-9]+$ ]] || [ "$first" -gt "$last" ]; then
  echo "$0: SEEDS must be N or FIRST..LAST, got '$seeds'" >&2
  exit 2
fi
for ((seed = first; seed <= last; seed++)); do
  out=$("$bin" run "$scenario" --seed "$seed" --quiet 2>&1)
  rc=$?
  case $rc in
    0) ;;
    1)
      echo "FAIL seed $seed: $(printf '%s\n' "$out" | grep -m1 -E 'VIOLATION|EXPECTATION FAILED|FAILED' || printf '%s\n' "$out" | head -n1)"
      # the finding's detail line and its schedule token
      printf '%s\n' "$out" | grep -m1 -A1 -E '^VIOLATION' | tail -n +2
      printf '%s\n' "$out" | grep -m1 -E '^  seed [0-9]+, schedule'
      echo "  replay: $bin run $scenario --seed $seed"
      exit 1 ;;
    *)
      echo "ERROR seed $seed: $bin exited $rc" >&2
      printf '%s\n' "$out" | head -n 20 >&2
      exit 2 ;;
  esac
done
echo "clean: seeds $first..$last"
exit 0
