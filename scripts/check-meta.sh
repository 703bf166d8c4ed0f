#!/usr/bin/env bash
# check-meta.sh: checks that META.json is a well-formed PGXN meta-spec 1.0.0
# document and agrees with lhv.control, the one source of the version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" lhv.control)
/usr/bin/python3 - "$version" <<'PY'
import json, re, sys, os
version = sys.argv[1]
meta = json.load(open("META.json"))
errors = []
for key in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
    if key not in meta:
        errors.append(f"missing required key {key!r}")
semver = re.compile(r"^\d+\.\d+\.\d+$")
if meta.get("meta-spec", {}).get("version") != "1.0.0":
    errors.append("meta-spec.version must be 1.0.0")
if meta.get("version") != version:
    errors.append(f"version {meta.get('version')} != lhv.control {version}")
for name, p in meta.get("provides", {}).items():
    if p.get("version") != version:
        errors.append(f"provides.{name}.version {p.get('version')} != {version}")
    if not semver.match(p.get("version", "")):
        errors.append(f"provides.{name}.version is not semver")
    if p.get("file") and not os.path.exists(p["file"]):
        errors.append(f"provides.{name}.file {p['file']} does not exist")
# lhv_pgvector ships with lhv and carries the same version.
for line in open("lhv_pgvector.control"):
    if line.startswith("default_version") and line.split("'")[1] != version:
        errors.append(f"lhv_pgvector.control default_version {line.split(chr(39))[1]} != {version}")
if errors:
    print("META.json:", *errors, sep="\n  ")
    sys.exit(1)
print(f"META.json: valid, version {version}")
PY
