#!/usr/bin/env bash
# Installs the Debian packages cairn needs to build, run and test. Idempotent,
# and silent when everything is already there. Usage: install-deps.sh [build|test]
set -euo pipefail

build_pkgs=(
  g++ meson ninja-build pkg-config git
  libuv1-dev node-llhttp libldns-dev libyaml-cpp-dev libsimdjson-dev libssl-dev
  libnghttp2-dev doctest-dev curl
  libmsgpack-cxx-dev zlib1g-dev libre2-dev
  etcd-server  # `cairn agent -server` runs it as its child (its own etcd.service is not started)
)
# Tests, sanitizers, fuzzers and the real peers the benchmarks compare with.
test_pkgs=(
  clang libclang-rt-14-dev python3 python3-pytest python3-dnspython
  dnsutils ldnsutils procps iproute2 wrk nginx-light dnsmasq-base unbound dnsperf etcd-server
  golang-go golang-github-hashicorp-memberlist-dev golang-github-hashicorp-serf-dev
  openssl python3-grpcio
  nghttp2-client  # h2load: drives the RPC bench (cairn's rpc::Server against nginx's HTTP/2)
  python3-consul  # Consul's Python client: tests/integration/test_consul_compat.py
  debhelper dpkg-dev fakeroot man-db adduser lintian  # the package test
)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# Debian's nginx and unbound packages try to start their services; the tests start
# their own, so forbid service starts for the duration of the install.
policy=/usr/sbin/policy-rc.d
made_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  made_policy=1
fi
trap '[ -n "$made_policy" ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
