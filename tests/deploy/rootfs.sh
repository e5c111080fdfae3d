#!/usr/bin/env bash
# The runtime image's root file system without Docker (tests/deploy/test_deploy.c).
#
#   rootfs.sh packages FILE...
#       The Debian package of every shared library FILE needs (its ldd closure, the dynamic
#       loader included), one "PACKAGE PATH" a line; "? PATH" for a library no package owns.
#   rootfs.sh owner FILE...
#       The package owning each FILE, one "PACKAGE PATH" a line ("?" when none).
#   rootfs.sh loaded LOG
#       The libraries an LD_DEBUG=files log shows as dlopen'ed ("dynamically loaded"), one a line.
#   rootfs.sh build ROOT INSTALLED PKG...
#       ROOT gets bookworm's merged-/usr layout, the files of libc6 (the base image's C library)
#       and of each PKG as installed on this machine (dpkg -L), minus what the slim image leaves
#       out (docs, man pages, locales), then the INSTALLED tree (`make install DESTDIR=`) on top,
#       the image's user (uid/gid 10001), /var/lib/ganglion (its state), /wallets and the
#       device nodes every container has (null, zero, random, urandom). Nothing
#       else: a library the Dockerfile does not name is missing here too. Prints
#       "size binary|libraries|base BYTES" (libraries: the PKG files; base: libc6's).
set -euo pipefail

# The package owning a library, trying the paths dpkg may know it by
# (merged /usr: /lib/x86_64-linux-gnu/libc.so.6 is /usr/lib/...).
pkg_of() {
  local lib=$1 real c p
  real=$(readlink -f "$lib")
  for c in "$lib" "$real" "${real#/usr}" "/usr$lib" "${lib#/usr}"; do
    [ -n "$c" ] || continue
    p=$(dpkg -S "$c" 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1) || true
    if [ -n "$p" ]; then echo "$p"; return; fi
  done
  echo "?"
}

files_of() { # the package's files and symlinks, minus slim's path-excludes
  dpkg -L "$1" | while IFS= read -r f; do
    if [ -d "$f" ] && [ ! -L "$f" ]; then continue; fi
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\n' "${f#/}"; fi
  done | grep -v -E '^usr/share/(doc|man|info|locale|lintian|bug)/' || true
}

case "${1:-}" in
packages)
  shift
  for f in "$@"; do
    out=$(ldd "$f") || { echo "rootfs.sh: ldd $f failed" >&2; exit 1; }
    if grep -q "not found" <<<"$out"; then echo "rootfs.sh: $f: $(grep 'not found' <<<"$out")" >&2; exit 1; fi
    # "libx.so.1 => /path (0x..)" and the loader's "/lib64/ld-linux-x86-64.so.2 (0x..)"
    sed -n -e 's/^[[:space:]]*[^[:space:]]* => \(\/[^[:space:]]*\) (0x.*/\1/p' \
           -e 's/^[[:space:]]*\(\/[^[:space:]]*\) (0x.*/\1/p' <<<"$out"
  done | sort -u | while IFS= read -r lib; do
    echo "$(pkg_of "$lib") $lib"
  done
  ;;
owner)
  shift
  for f in "$@"; do echo "$(pkg_of "$f") $f"; done
  ;;
loaded)
  sed -n 's/.*file=\([^[:space:]]*\) \[[0-9]*\];[[:space:]]*dynamically loaded by.*/\1/p' "$2" | sort -u
  ;;
build)
  root=$2 inst=$3
  shift 3
  if [ -e "$root" ] && [ -n "$(ls -A "$root")" ]; then echo "rootfs.sh: $root is not empty" >&2; exit 1; fi
  mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/{etc,tmp,var/lib/ganglion,wallets}
  for d in bin sbin lib lib64; do ln -sfn "usr/$d" "$root/$d"; done
  chmod 1777 "$root/tmp"
  # the device nodes a container has (libwebsockets reads /dev/urandom); without
  # CAP_MKNOD, empty files for the runner to bind-mount the host's nodes onto
  mkdir -p "$root/dev"
  for d in null:3 zero:5 random:8 urandom:9; do
    mknod -m 0666 "$root/dev/${d%%:*}" c 1 "${d#*:}" 2>/dev/null || : >"$root/dev/${d%%:*}"
  done
  copy() { # copy PKG's files into ROOT; print their size
    if ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; then
      echo "rootfs.sh: package $1 (named in the Dockerfile) is not installed here (make deps)" >&2
      return 1
    fi
    local list
    list=$(files_of "$1")
    [ -n "$list" ] || return 0
    tar -C / --no-recursion -cf - -T - <<<"$list" | tar -C "$root" --keep-directory-symlink -xf -
    tr '\n' '\0' <<<"$list" | (cd / && du -cbs --files0-from=- 2>/dev/null) | tail -n 1 | cut -f1
  }
  base=$(copy libc6)
  libs=0
  for p in "$@"; do
    [ "$p" = libc6 ] && continue
    n=$(copy "$p")
    libs=$((libs + ${n:-0}))
  done
  cp -a "$inst"/. "$root"/
  # the image's user, as the Dockerfile's runtime stage makes it
  printf 'root:x:0:0:root:/root:/bin/sh\nganglion:x:10001:10001::/var/lib/ganglion:/usr/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nganglion:x:10001:\n' >"$root/etc/group"
  if [ "$(id -u)" = 0 ]; then chown 10001:10001 "$root/var/lib/ganglion" "$root/wallets"; fi
  chmod 0700 "$root/var/lib/ganglion"
  echo "size binary $(stat -c %s "$root/usr/local/bin/ganglion")"
  echo "size libraries $libs"
  echo "size base $base"
  ;;
*)
  echo "usage: rootfs.sh packages FILE... | owner FILE... | loaded LOG | build ROOT INSTALLED PKG..." >&2
  exit 2
  ;;
esac
