#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's commands, run in order on a fresh copy, as a new user would type them.
#
#   tests/cli/readme_tour.sh DIOSIM SOURCE_DIR WORK_DIR
#
# WORK_DIR is emptied and gets a copy of scenarios/, tests/fixtures/ and tests/bad/ and
# build/diosim (a link to DIOSIM, the already-built binary); no out/ directory exists before the
# first command, as on a fresh clone. Commands come from README.md's fenced code blocks:
#   * a line starting with "$ " is a command; the lines after it, up to the next "$ " or the
#     end of the block, are its output as the README shows it;
#   * in a ```sh block without "$ " lines, every line that is not blank and not a "#" comment
#     is a command (a trailing "  # comment" is dropped).
# A block right after the marker line <!-- readme-test: skip --> is not run (the marker is for
# long commands such as `make run` / `make test`, which build and run everything themselves).
# Expected exit code: "(exit N)" in the command's trailing comment; else, from its shown output,
# 1 when it shows a failure (FAIL:, VIOLATION, EXPECTATION FAILED, "violations: N kind"), 2 when
# it shows a "diosim: " error line, 0 otherwise; 0 for a command without output.
# Shown output: every shown line must appear in the actual output, in order; the only part
# masked is the wall-clock rate of explore's "executions:" line.
# Exit codes: 0 every command ran as the README says, 1 one did not, 2 bad usage.
set -uo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 DIOSIM SOURCE_DIR WORK_DIR" >&2
  exit 2
fi
diosim=$(realpath "$1")
src=$(realpath "$2")
work=$3
readme=$src/README.md
[[ -x $diosim ]] || { echo "readme tour: $diosim is not an executable" >&2; exit 2; }
[[ -f $readme ]] || { echo "readme tour: no $readme" >&2; exit 2; }

rm -rf "$work"
mkdir -p "$work/build" "$work/tests"
cp -r "$src/scenarios" "$work/"
cp -r "$src/tests/fixtures" "$src/tests/bad" "$work/tests/"
ln -s "$diosim" "$work/build/diosim"
work=$(realpath "$work")

# ---- extract: one record per command: expected exit, command, shown output ---------------------
# Records are written to $work/.tour/N.{cmd,exit,shown}.
mkdir -p "$work/.tour"
awk -v dir="$work/.tour" '
  function flush_cmd() {
    if (cmd == "") return
    n++
    printf "%s\n", cmd > (dir "/" n ".cmd"); close(dir "/" n ".cmd")
    printf "%s", shown > (dir "/" n ".shown"); close(dir "/" n ".shown")
    printf "%s\n", exit_code > (dir "/" n ".exit"); close(dir "/" n ".exit")
    printf "%s\n", NR_of_cmd > (dir "/" n ".line"); close(dir "/" n ".line")
    cmd = ""; shown = ""; exit_code = ""
  }
  function strip_comment(line,   m) {
    comment = ""
    if (match(line, /[ \t]+#.*$/)) { comment = substr(line, RSTART); line = substr(line, 1, RSTART - 1) }
    return line
  }
  function explicit_exit(c) {
    if (match(c, /\(exit [0-9]+\)/)) return substr(c, RSTART + 6, RLENGTH - 7)
    return ""
  }
  /^<!-- readme-test: skip/ { skip_next = 1; next }
  /^```/ {
    if (!in_block) {
      in_block = 1; lang = substr($0, 4); skip = skip_next; skip_next = 0
      nlines = 0; has_prompt = 0; next
    }
    in_block = 0
    if (!skip) {
      for (i = 1; i <= nlines; i++) if (lines[i] ~ /^\$ /) has_prompt = 1
      for (i = 1; i <= nlines; i++) {
        l = lines[i]
        if (has_prompt) {
          if (l ~ /^\$ /) {
            flush_cmd(); cmd = strip_comment(substr(l, 3)); exit_code = explicit_exit(comment); NR_of_cmd = linenos[i]
          } else if (cmd != "") shown = shown l "\n"
        } else if (lang == "sh" && l !~ /^[ \t]*(#|$)/) {
          flush_cmd(); cmd = strip_comment(l); exit_code = explicit_exit(comment); NR_of_cmd = linenos[i]
        }
      }
      flush_cmd()
    }
    next
  }
  in_block { lines[++nlines] = $0; linenos[nlines] = NR }
' "$readme"

count=$(ls "$work/.tour" | grep -c '\.cmd$')
if [[ $count -eq 0 ]]; then
  echo "readme tour: no commands found in $readme" >&2
  exit 1
fi

# ---- run ------------------------------------------------------------------------------------
implied_exit() { # shown output -> exit code
  if grep -Eq '^(FAIL:|VIOLATION|EXPECTATION FAILED)|violations: [1-9]' "$1"; then echo 1
  elif grep -q '^diosim: ' "$1"; then echo 2
  else echo 0
  fi
}
normalise() { sed -E 's/ in [0-9.]+ s \([0-9]+\/s\)/ in T s (R\/s)/' "$1"; }

failures=0
for ((i = 1; i <= count; i++)); do
  cmd=$(cat "$work/.tour/$i.cmd")
  line=$(cat "$work/.tour/$i.line")
  want=$(cat "$work/.tour/$i.exit")
  [[ -n $want ]] || want=$(implied_exit "$work/.tour/$i.shown")
  (cd "$work" && bash -c "$cmd") >"$work/.tour/$i.out" 2>&1
  got=$?
  status="ok"
  if [[ $got -ne $want ]]; then
    status="FAILED: exit $got, the README implies $want"
  elif [[ -s $work/.tour/$i.shown ]]; then
    # every shown line, in order, among the actual lines
    if ! awk 'NR == FNR { want[++n] = $0; next } k < n && $0 == want[k + 1] { k++ } END { exit k == n ? 0 : 1 }' \
      <(normalise "$work/.tour/$i.shown") <(normalise "$work/.tour/$i.out"); then
      status="FAILED: the output differs from what the README shows"
    fi
  fi
  echo "README.md:$line: \$ $cmd  -> exit $got: $status"
  if [[ $status != ok ]]; then
    failures=$((failures + 1))
    echo "---- README shows:"; cat "$work/.tour/$i.shown"
    echo "---- actual output (first 40 lines):"; head -40 "$work/.tour/$i.out"; echo "----"
  fi
done
echo "readme tour: $count commands, $failures failed"
[[ $failures -eq 0 ]]
