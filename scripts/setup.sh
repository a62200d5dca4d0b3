#!/usr/bin/env bash
# Install what Anxin needs on a fresh Debian machine: system packages, the virtualenv, the project.
# Usage: scripts/setup.sh [--test]   (--test adds the test tools, browsers and the Korean Vosk model)
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=0
[ "${1:-}" = "--test" ] && with_test=1

# Speech, sound, a virtual screen and GL for Kivy, CJK fonts; for tests also Chromium, coturn, netns tools.
apt_packages=(espeak-ng alsa-utils sox xvfb xauth xdotool libegl1 libgles2 libgl1-mesa-dri libmtdev1
  libsdl2-2.0-0 fonts-noto-cjk python3-venv)
if [ "$with_test" = 1 ]; then
  apt_packages+=(chromium chromium-driver coturn iproute2 util-linux)
fi
# npm installs the pages' front-end libraries (the map); Debian's if the machine has none.
command -v npm >/dev/null || apt_packages+=(npm)

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "$with_test" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
# Front-end libraries from the npm registry, served from /static/vendor/ (never a CDN). The
# devDependencies (axe-core, which the accessibility tests inject into pages) only with --test.
npm_omit=(--omit=dev)
[ "$with_test" = 1 ] && npm_omit=()
(cd server/web/vendor && npm ci "${npm_omit[@]}" --no-audit --no-fund --loglevel=error >/dev/null)
echo "setup: ready"
