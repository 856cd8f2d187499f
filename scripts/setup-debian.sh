#!/usr/bin/env bash
# setup-debian.sh installs what buktu's build, tests and benchmarks need on Debian.
# It is idempotent and quiet when everything is already there.
set -euo pipefail

pkgs=(
  # file-service peers: OpenSSH client and a throwaway sshd for benchmarks, rclone, lftp, rsync
  openssh-client openssh-server rclone lftp rsync
  # screen-service peers (X server, X clients, VNC clients and servers)
  xvfb xterm x11-apps x11-utils xdotool
  # VNC peers: viewers for the tests, servers for the benchmarks
  tigervnc-viewer vncsnapshot x11vnc tigervnc-scraping-server imagemagick
  # libjpeg-turbo for Tight's JPEG (the turbojpeg build tag), and the C compiler cgo needs
  libturbojpeg0-dev gcc libc6-dev
  # the browser the console's tests drive (headless, through chromedp)
  chromium
  # tools the tests use
  procps iproute2 ca-certificates git make
)
# The console is built with node and npm (scripts/build-web.sh); a machine that has its own
# node (nodesource's, nvm's) keeps it: Debian's npm on top of it would clash.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "setup: Go 1.26 or newer is needed (https://go.dev/doc/install)" >&2; exit 1; }
go mod download

bash "$(dirname "$0")/build-web.sh"
