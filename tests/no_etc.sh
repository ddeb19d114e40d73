#!/bin/sh
# Runs a test program with an empty /etc, in a private mount namespace: what a minimal
# host or a FROM-scratch container offers (no services database, no passwd). Needs root
# and a root filesystem that is a mount point (not so inside a plain chroot); skipped with
# the reason otherwise. The namespace's mounts are private (unshare's default), so the empty
# /etc is never seen outside it.
# usage: no_etc.sh PROGRAM [ARGS...]
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
  echo "1..0 # SKIP needs root and unshare for a private mount namespace"
  exit 0
fi
if ! why=$(unshare -m true 2>&1); then
  echo "1..0 # SKIP cannot make a private mount namespace here: $why"
  exit 0
fi
exec unshare -m sh -c 'mount -t tmpfs none /etc && exec "$@"' sh "$@"
