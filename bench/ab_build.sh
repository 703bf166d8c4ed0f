#!/usr/bin/env bash
# ab_build.sh: builds a git revision of lhv into its own relocated copy of
# PostgreSQL 15 (postgres finds its share and lib directories relative to its
# binary), so that benchmarks can run revisions side by side without touching
# the system installation. Sourced by bench/insert_ab.sh and bench/restart_ab.sh.
#   lhv_ab_install REV PREFIX [CPPFLAG...]
# Installs into PREFIX (its pg_config: PREFIX/usr/lib/postgresql/15/bin/pg_config),
# unless PREFIX already holds the build of that commit with those flags;
# lhv_ab_prefix REV [CPPFLAG...] names the usual PREFIX under $base.
# Needs $root (the repository) and $base set.

# The copy a build of REV [with CPPFLAG...] goes to: one per commit and flags,
# shared by the scripts.
lhv_ab_prefix() {
  local rev=$1 flags=("${@:2}") suffix=""
  [ ${#flags[@]} -gt 0 ] && suffix=-$(printf '%s' "${flags[*]}" | md5sum | cut -c1-8)
  echo "$base/build-$(git -C "$root" rev-parse --short=12 "$rev^{commit}")$suffix"
}

lhv_ab_install() {
  local rev=$1 prefix=$2 flags=("${@:3}") tree id cppflags=()
  local pg_config=$prefix/usr/lib/postgresql/15/bin/pg_config
  tree=$(dirname "$prefix")/tree-$(basename "$prefix")
  id="$(git -C "$root" rev-parse "$rev^{commit}") ${flags[*]}"
  if [ "$(cat "$prefix/lhv-build" 2>/dev/null)" = "$id" ]; then
    echo "ab_build: $rev ${flags[*]} already built in $prefix"
    return
  fi
  echo "ab_build: building $rev ${flags[*]} into $prefix"
  rm -rf "$prefix" "$tree"
  mkdir -p "$prefix/usr/lib/postgresql" "$prefix/usr/share/postgresql" "$prefix/usr/include"
  cp -a /usr/lib/postgresql/15 "$prefix/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$prefix/usr/share/postgresql/"
  cp -a /usr/include/postgresql "$prefix/usr/include/"
  git -C "$root" worktree add -f -q --detach "$tree" "$rev"
  # PGXS prepends its include flags to CPPFLAGS; keep PostgreSQL's own.
  [ ${#flags[@]} -gt 0 ] && cppflags=("CPPFLAGS=$("$pg_config" --cppflags) ${flags[*]}")
  make -C "$tree" -s -j"$(nproc)" PG_CONFIG="$pg_config" "${cppflags[@]}" >/dev/null
  make -C "$tree" -s install PG_CONFIG="$pg_config" "${cppflags[@]}" >/dev/null
  git -C "$root" worktree remove --force "$tree"
  echo "$id" >"$prefix/lhv-build"
}
