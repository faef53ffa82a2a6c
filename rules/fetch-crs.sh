#!/bin/sh
# Fetch OWASP CRS v4.28.0 (the release Wafer embeds) and verify it file by file.
#
# Usage: rules/fetch-crs.sh [DEST]
#   DEST defaults to ../shared/crs/v4.28.0 beside the repository, where the build looks
#   when CRS_DIR is not set. Needs curl (or wget), tar and sha256sum.
#
# Verification: every rules/*.conf, rules/*.data, crs-setup.conf.example and LICENSE of the
# extracted tree must match rules/crs-v4.28.0.sha256 (generated from a reviewed copy of the
# release). The tarball's own sha256 is printed; pin it in CRS_TARBALL_SHA256 below on
# first fetch (GitHub archive tarballs are not guaranteed byte-stable, the extracted files are).
set -eu

CRS_VERSION=4.28.0
CRS_URL="https://github.com/coreruleset/coreruleset/archive/refs/tags/v${CRS_VERSION}.tar.gz"
# Leave empty until pinned; when set, the tarball must match it.
CRS_TARBALL_SHA256="${CRS_TARBALL_SHA256:-}"

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
dest=${1:-"$(dirname "$repo")/shared/crs/v${CRS_VERSION}"}
sums="$here/crs-v${CRS_VERSION}.sha256"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "fetching $CRS_URL"
if command -v curl >/dev/null 2>&1; then
    curl -fsSL -o "$tmp/crs.tar.gz" "$CRS_URL"
else
    wget -q -O "$tmp/crs.tar.gz" "$CRS_URL"
fi

tarball_sum=$(sha256sum "$tmp/crs.tar.gz" | cut -d' ' -f1)
echo "tarball sha256: $tarball_sum"
if [ -n "$CRS_TARBALL_SHA256" ]; then
    if [ "$tarball_sum" != "$CRS_TARBALL_SHA256" ]; then
        echo "error: tarball sha256 differs from CRS_TARBALL_SHA256=$CRS_TARBALL_SHA256" >&2
        exit 1
    fi
else
    echo "note: CRS_TARBALL_SHA256 is not pinned; the extracted files are checked below"
fi

mkdir -p "$tmp/x"
tar -xzf "$tmp/crs.tar.gz" -C "$tmp/x" --strip-components=1

echo "verifying extracted files against $sums"
(cd "$tmp/x" && sha256sum -c --quiet "$sums")

# Only what the build and the test suites use: rules, setup example, licence, tests.
mkdir -p "$dest"
rm -rf "$dest/rules" "$dest/tests"
cp -R "$tmp/x/rules" "$dest/rules"
[ -d "$tmp/x/tests" ] && cp -R "$tmp/x/tests" "$dest/tests"
cp "$tmp/x/crs-setup.conf.example" "$tmp/x/LICENSE" "$dest/"
(cd "$dest" && sha256sum -c --quiet "$sums")
echo "CRS v$CRS_VERSION installed in $dest (verified)"
