#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Real-browser test of the trace viewer (viz/viewer.html).
#
#   tests/browser/run.sh BUILD_DIR PASS_HTML FAIL_HTML [SCREENSHOT_DIR]
#
# PASS_HTML / FAIL_HTML are viewer pages with a passing and a failing trace embedded (what
# `diosim run --html` writes). Installs what is missing: Debian's chromium (apt-get, as root) and
# playwright-core into BUILD_DIR/browser-deps (never into the source tree). Screenshots go to
# SCREENSHOT_DIR (default BUILD_DIR/browser-screenshots).
# Exit codes: 0 pass, 1 a failed assertion, 2 bad usage, 77 the browser or playwright-core could
# not be installed (register with SKIP_RETURN_CODE 77).
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
chromium=/usr/bin/chromium
deps=$build_dir/browser-deps

for f in "$pass_html" "$fail_html"; do
  [[ -f $f ]] || { echo "viewer test: no such file: $f" >&2; exit 2; }
done
command -v node >/dev/null || { echo "viewer test: node is not installed" >&2; exit 77; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else return 1
  fi
}

if [[ ! -x $chromium ]]; then
  echo "viewer test: installing Debian's chromium" >&2
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    echo "viewer test: SKIP: could not install chromium (apt-get install chromium failed)" >&2
    exit 77
  fi
fi

if [[ ! -f $deps/node_modules/playwright-core/package.json ]]; then
  echo "viewer test: installing playwright-core into $deps" >&2
  mkdir -p "$deps"
  if ! npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$deps" playwright-core@1 >&2; then
    echo "viewer test: SKIP: could not install playwright-core from the npm registry" >&2
    exit 77
  fi
fi

mkdir -p "$shot_dir"
export DIOSIM_BROWSER_DEPS=$deps
exec node "$here/viewer_test.mjs" "$pass_html" "$fail_html" "$shot_dir"
