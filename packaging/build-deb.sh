#!/usr/bin/env bash
# Builds cairn_<version>_<arch>.deb and cairn-server_<version>_<arch>.deb into
# build-deb/ (README: "Debian package"; docs/packaging.md).
#   bash packaging/build-deb.sh
# The project's top level is fixed by its design, so the Debian source package
# is assembled in a copy of the tree with packaging/debian as debian/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash packaging/install-deps.sh build
missing=()
for p in debhelper dpkg-dev fakeroot; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
out="$root/build-deb"
work="$out/src"
rm -rf "$work"
# Packages of an earlier build would be taken for this one's.
rm -f "$out"/cairn_*.deb "$out"/cairn-server_*.deb "$out"/cairn_*.changes "$out"/cairn_*.buildinfo
mkdir -p "$work"
# The tracked tree (no build directories), plus uncommitted edits.
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$work"/ 2>/dev/null || \
  tar --exclude='./build*' --exclude='./.git' -cf - . | (cd "$work" && tar xf -)
cp -r packaging/debian "$work/debian"
cp systemd/cairn.service "$work/debian/cairn.cairn.service"
cp systemd/cairn-dnsfwd.service "$work/debian/cairn.cairn-dnsfwd.service"
( cd "$work" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1 ) || {
  tail -40 "$out/build.log"; exit 1; }
ls "$out"/cairn_*.deb "$out"/cairn-server_*.deb
