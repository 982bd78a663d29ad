#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Real-browser test of the trace viewer (viz/viewer.html).
#
#   tests/browser/run.sh BUILD_DIR PASS_HTML FAIL_HTML [SCREENSHOT_DIR]
#
# PASS_HTML / FAIL_HTML are viewer pages with a passing and a failing trace embedded (what
# `diosim run --html` writes). Chromium and playwright-core (in BUILD_DIR/browser-deps) are
# installed beforehand by install.sh (the CTest test browser.install); this script installs
# nothing. Screenshots go to SCREENSHOT_DIR (default BUILD_DIR/browser-screenshots).
# Exit codes: 0 pass, 1 a failed assertion or a missing browser (never a skip: leave the browser
# tests out with ctest -LE browser), 2 bad usage.
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 BUILD_DIR PASS_HTML FAIL_HTML [SCREENSHOT_DIR]" >&2
  exit 2
fi
build_dir=$(mkdir -p "$1" && cd "$1" && pwd)
pass_html=$2
fail_html=$3
shot_dir=${4:-$build_dir/browser-screenshots}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deps=$build_dir/browser-deps

for f in "$pass_html" "$fail_html"; do
  [[ -f $f ]] || { echo "viewer test: no such file: $f" >&2; exit 2; }
done
if [[ ! -x /usr/bin/chromium || ! -f $deps/node_modules/playwright-core/package.json ]]; then
  echo "viewer test: chromium or playwright-core is missing: run $here/install.sh $build_dir" >&2
  echo "viewer test: (the CTest test browser.install does; ctest -LE browser leaves these tests out)" >&2
  exit 1
fi

mkdir -p "$shot_dir"
export DIOSIM_BROWSER_DEPS=$deps
exec node "$here/viewer_test.mjs" "$pass_html" "$fail_html" "$shot_dir"
