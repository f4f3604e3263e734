#!/usr/bin/env bash
# The console's browser tests need Debian's chromium and its chromedriver (no browser download: apt only).
# Installs them quietly when missing and possible (root + apt-get); otherwise those tests skip and say why.
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium + chromium-driver for the console's browser tests…"
  export DEBIAN_FRONTEND=noninteractive
  if (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver) >/dev/null 2>&1; then
    exit 0
  fi
fi
echo "chromium/chromedriver not installed: the console's browser tests will be skipped" >&2
exit 0
