#!/usr/bin/env bash
# Installs the Debian packages diosim needs, only when one is missing.
# Runs `apt-get update` once, then one `apt-get install -y`.
set -euo pipefail
pkgs=(cmake make g++ patch libboost-context-dev nlohmann-json3-dev doctest-dev librapidcheck-dev libcli11-dev libmimalloc-dev)
if [[ ${DIOSIM_WITH_BROWSER:-0} == 1 ]]; then pkgs+=(chromium nodejs npm); fi
# The parser fuzzers (make test-fuzz, make fuzz-parsers): clang and its libFuzzer runtime.
if [[ ${DIOSIM_WITH_FUZZ:-0} == 1 ]]; then pkgs+=(clang libclang-rt-14-dev); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y "${missing[@]}"
fi
