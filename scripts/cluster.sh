#!/usr/bin/env bash
# cluster.sh: functions to run a throwaway PostgreSQL 15 cluster with lhv
# preloaded, listening on a unix socket only. Source it, then:
#   lhv_cluster_start DIR [postgresql.conf lines...]
#   lhv_psql DIR [psql args...]
#   lhv_cluster_stop DIR
# PostgreSQL refuses to run as root, so as root the server side runs as the
# unprivileged `postgres` user and DIR is handed to it.

# The PostgreSQL whose binaries run the cluster: $PG_BINDIR, else the bindir of
# $PG_CONFIG (default: the pg_config on PATH).
PG_BINDIR=${PG_BINDIR:-$("${PG_CONFIG:-pg_config}" --bindir)}

# Runs a command as the user that owns the server.
lhv_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Creates DIR/data, configures it (extra lines appended) and starts it. The
# server's programs run from / (see lhv_psql). DIR must be absolute.
lhv_cluster_start() {
  local dir=$1; shift
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  (cd / && lhv_as_pg "$PG_BINDIR/initdb" -D "$dir/data" -A trust -U postgres --no-sync) >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  {
    echo "shared_preload_libraries = 'lhv'"
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$dir'"
    echo "fsync = off"
    echo "max_connections = 40"
    for line in "$@"; do echo "$line"; done
  } | lhv_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
  (cd / && lhv_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null) \
    || { cat "$dir/server.log" >&2; return 1; }
}

# psql against the cluster in DIR, as the postgres superuser, stopping at errors.
# From /: the caller's directory (a clone in /root) may be closed to postgres,
# and its programs warn that they cannot enter it. Paths given are absolute.
lhv_psql() {
  local dir=$1; shift
  (cd / && lhv_as_pg "$PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -h "$dir" -U postgres -d postgres "$@")
}

# Stops the cluster in DIR and removes DIR.
lhv_cluster_stop() {
  local dir=$1
  [ -d "$dir/data" ] && (cd / && lhv_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1)
  rm -rf "$dir"
}
