#!/bin/sh
# /usr/bin/@NAME@ of the ovirt-sysprep packages (docs/packaging.md): runs the packaged code
# with the Node runtime bundled beside it. The library is found from this file's own place
# (/usr/bin/../lib/ovirt-sysprep), so an unpacked or --root installed tree runs as it is.
lib="$(dirname "$(readlink -f "$0")")/../lib/ovirt-sysprep"
exec "$lib/node/bin/node" "$lib/app/bin/@NAME@" "$@"
