#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs what the viewer's browser tests need, once, before they run (CTest test
# browser.install, a FIXTURES_SETUP of every viewer.browser* test):
#
#   tests/browser/install.sh BUILD_DIR
#
# Debian's chromium (apt-get, as root or through sudo) and playwright-core into
# BUILD_DIR/browser-deps (never into the source tree). Installing here, not in each test, keeps
# the browser tests from racing one another for the same install.
# Exit codes: 0 installed (or already there), 1 could not install (the message says why and how
# to leave the browser tests out: ctest -LE browser), 2 bad usage.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build_dir=$(mkdir -p "$1" && cd "$1" && pwd)
deps=$build_dir/browser-deps
chromium=/usr/bin/chromium
opt_out="to run the suite without the browser tests: ctest -LE browser (make test CTEST_ARGS='-LE browser')"

fail() {
  echo "browser install: FAILED: $1" >&2
  echo "browser install: $opt_out" >&2
  exit 1
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else return 1
  fi
}

command -v node >/dev/null || fail "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || fail "npm is not installed (apt-get install npm)"

if [[ ! -x $chromium ]]; then
  echo "browser install: installing Debian's chromium" >&2
  { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
    fail "apt-get install chromium failed (needs root or sudo and the Debian mirrors)"
fi

if [[ ! -f $deps/node_modules/playwright-core/package.json ]]; then
  echo "browser install: installing playwright-core into $deps" >&2
  mkdir -p "$deps"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$deps" playwright-core@1 >&2 ||
    fail "npm install playwright-core failed (needs the npm registry)"
fi
echo "browser install: chromium $($chromium --version 2>/dev/null | awk '{print $2}'), playwright-core $(node -p "require('$deps/node_modules/playwright-core/package.json').version")"
