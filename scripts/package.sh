#!/usr/bin/env bash
# npm run package: builds dist/, stages ONE installed tree (what goes where:
# docs/packaging.md), and makes of it the Debian package (dpkg-deb) and the EL 9 RPM
# (rpmbuild, from Debian's `rpm`), into dist/packages/.
# Usage: scripts/package.sh [--test-tools]
#   --test-tools: also install the tools the package test uses (npm run test:package).
# The Node.js that runs this script is the one bundled (decision 62), and the production
# npm dependencies are copied from the tested node_modules (`npm ls --omit=dev`), so the
# build needs no network once the tools are installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# package:command pairs, installed only when the command is missing.
tools=(rpm:rpmbuild dpkg:dpkg-deb)
[[ "${1:-}" == "--test-tools" ]] && tools+=(systemd:systemd-analyze libxml2-utils:xmllint logrotate:logrotate)
missing=()
for t in "${tools[@]}"; do command -v "${t#*:}" >/dev/null || missing+=("${t%%:*}"); done
if ((${#missing[@]})); then
  echo "package: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

npm run --silent build

name=ovirt-sysprep
version=$(node -p "require('./package.json').version")
release=1
node_bin=$(node -p process.execPath)
node_version=$(node -p process.versions.node)
debarch=$(dpkg --print-architecture)
case "$debarch" in
  amd64) rpmarch=x86_64 ;;
  arm64) rpmarch=aarch64 ;;
  *) echo "package: no RPM architecture for $debarch" >&2; exit 1 ;;
esac

out=dist/packages
stage=$out/stage/root
rm -rf "$out"
mkdir -p "$stage"
lib=$stage/usr/lib/ovirt-sysprep
app=$lib/app

# The code: the compiled dist/ (not the tests' and benchmarks'), the launchers bin/ (their
# require('../dist/...') holds in app/), and what the code reads beside itself at run
# time: proto/ (shared/grpc.ts), engine-plugin/web and ui-plugin (engine-plugin/api/app.ts).
mkdir -p "$app/dist" "$app/engine-plugin"
tar -C dist --exclude=./packages --exclude=./test --exclude=./bench -cf - . | tar -C "$app/dist" -xf -
cp -a bin proto package.json "$app/"
cp -a engine-plugin/web engine-plugin/ui-plugin "$app/engine-plugin/"

# Production dependencies only, as tested: the directories `npm ls --omit=dev` names (a
# nested one comes with its parent).
prev=""
while read -r dir; do
  [[ -n "$prev" && "$dir" == "$prev"/* ]] && continue
  prev=$dir
  mkdir -p "$app/$(dirname "$dir")"
  cp -a "$dir" "$app/$dir"
done < <(npm ls --omit=dev --all --parseable | sed "s|^$PWD/||" | grep '^node_modules/' | sort)
# better-sqlite3 keeps its SQLite sources and build intermediates: only the addon is loaded.
bs=$app/node_modules/better-sqlite3
rm -rf "$bs/deps" "$bs/src" "$bs/build/deps" "$bs/build/Release/obj" "$bs/build/Release/obj.target" "$bs/build/Release/.deps" "$bs/build/Release/test_extension.node"
# libpq (pg-native's binding, the PostgreSQL store): its addon, linked to the system's libpq.so.5.
pq=$app/node_modules/libpq
rm -rf "$pq/src" "$pq/vendor" "$pq/test" "$pq/build/Release/obj.target" "$pq/build/Release/.deps" "$pq/build/Makefile" "$pq/build/"*.mk

# The runtime (decision 62): this build's own Node.js, the ABI better-sqlite3 was built for.
install -D -m 0755 "$node_bin" "$lib/node/bin/node"
[[ -f /usr/share/doc/nodejs/LICENSE ]] && install -m 0644 /usr/share/doc/nodejs/LICENSE "$lib/node/LICENSE"

for exe in ovirt-sysprep ovirt-sysprep-agent ovirt-sysprep-engine; do
  install -d "$stage/usr/bin"
  sed "s/@NAME@/$exe/g" packaging/misc/wrapper.sh >"$stage/usr/bin/$exe"
done

install -D -m 0644 packaging/etc/engine.conf "$stage/etc/ovirt-sysprep/engine.conf"
install -D -m 0644 packaging/etc/agent.conf "$stage/etc/ovirt-sysprep/agent.conf"
install -d "$stage/etc/pki/ovirt-sysprep"
install -D -m 0644 packaging/misc/logrotate.conf "$stage/etc/logrotate.d/$name"
install -D -m 0644 -t "$stage/usr/lib/systemd/system" packaging/systemd/*.service
install -D -m 0644 packaging/misc/sysusers.conf "$stage/usr/lib/sysusers.d/$name.conf"
install -D -m 0644 packaging/misc/tmpfiles.conf "$stage/usr/lib/tmpfiles.d/$name.conf"
install -D -m 0644 packaging/misc/firewalld-ovirt-sysprep-agent.xml "$stage/usr/lib/firewalld/services/ovirt-sysprep-agent.xml"
install -d "$stage/usr/share/ovirt-engine/ui-plugins"
cp -a engine-plugin/ui-plugin/. "$stage/usr/share/ovirt-engine/ui-plugins/"
install -d "$stage/usr/share/doc/$name"
cp -a docs/*.md "$stage/usr/share/doc/$name/"

# One set of modes for both packages: files 0644 (0755 if executable), directories 0755;
# then the two that hold secrets (their group, ovirt-sysprep, is set at install time).
chmod -R u=rwX,go=rX "$stage"
chmod 0755 "$stage"/usr/bin/*
chmod 0640 "$stage/etc/ovirt-sysprep/engine.conf"
chmod 0750 "$stage/etc/pki/ovirt-sysprep"

# --- Debian ---
deb=$out/stage/deb
cp -al "$stage" "$deb"
install -d "$deb/DEBIAN"
install -m 0644 packaging/debian/conffiles "$deb/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$deb/DEBIAN/"
sed -e "s/@VERSION@/$version/" -e "s/@RELEASE@/$release/" -e "s/@DEBARCH@/$debarch/" \
    -e "s/@NODE_VERSION@/$node_version/" -e "s/@INSTALLED_SIZE@/$(du -sk "$stage" | cut -f1)/" \
    packaging/debian/control.in >"$deb/DEBIAN/control"
dpkg-deb --root-owner-group -Zzstd -z3 --build "$deb" "$out/${name}_${version}-${release}_${debarch}.deb" >/dev/null

# --- RPM (EL 9) ---
top=$PWD/$out/stage/rpmbuild
mkdir -p "$top/SPECS"
spec=$(<packaging/rpm/ovirt-sysprep.spec.in)
spec=${spec//@VERSION@/$version}
spec=${spec//@RELEASE@/$release}
spec=${spec//@RPMARCH@/$rpmarch}
spec=${spec//@NODE_VERSION@/$node_version}
spec=${spec//@STAGE@/$PWD/$stage}
spec=${spec//@SYSUSERS@/$(grep -v '^#' packaging/misc/sysusers.conf)}
printf '%s\n' "$spec" >"$top/SPECS/$name.spec"
rpmbuild --quiet -bb --target "$rpmarch" --define "_topdir $top" --define "dist .el9" "$top/SPECS/$name.spec"
mv "$top/RPMS/$rpmarch/"*.rpm "$out/"

rm -rf "$out/stage"
ls -l "$out"/*.deb "$out"/*.rpm
