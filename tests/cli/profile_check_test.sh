#!/bin/sh
# `wattline-edge profile check FILE...`: exit 0 and "ok" for valid files; exit 1 and every error
# with its line for a broken one.
# Usage: profile_check_test.sh PATH/TO/wattline-edge SOURCE_DIR
set -u
EDGE="$1"
SRC="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }

OUT=$("$EDGE" profile check "$SRC"/profiles/*.xml) || fail "bundled profiles rejected: $OUT"
[ "$(echo "$OUT" | grep -c ': ok$')" -eq "$(ls "$SRC"/profiles/*.xml | wc -l)" ] ||
  fail "not every bundled profile reported ok: $OUT"

OUT=$("$EDGE" profile check "$SRC/profiles/janitza-umg96rm-e.xml" \
  "$SRC/testdata/profile_check/several-errors.xml")
RC=$?
[ "$RC" -eq 1 ] || fail "exit code $RC for a broken file, expected 1"
echo "$OUT"
for line in 3 4 5 6 7; do
  echo "$OUT" | grep -q "^several-errors.xml:$line: " || fail "no error reported for line $line"
done
echo "$OUT" | grep -q "janitza-umg96rm-e.xml: ok" || fail "the valid file was not reported ok"

# The complete example in docs/profiles.md is a valid profile.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
sed -n '/^```xml$/,/^```$/p' "$SRC/docs/profiles.md" | sed '1d;$d' >"$TMP/docs-example.xml"
"$EDGE" profile check "$TMP/docs-example.xml" || fail "the example in docs/profiles.md is invalid"

"$EDGE" profile frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown subcommand should exit 2"
echo "PASS"
