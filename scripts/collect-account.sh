#!/bin/sh
# Collects what kmsaudit needs to answer questions about one AWS account's KMS keys, with
# read-only AWS CLI calls only, into a directory kmsaudit reads as it is:
#
#   OUT/iam/get-account-authorization-details.json
#   OUT/keys/<region>/list-aliases.json
#   OUT/keys/<region>/<key-id>/describe-key.json
#   OUT/keys/<region>/<key-id>/get-key-policy.json
#   OUT/keys/<region>/<key-id>/list-grants.json
#   OUT/keys/<region>/<key-id>/list-resource-tags.json
#
# Usage: scripts/collect-account.sh OUT REGION [REGION…]
# Then:  kmsaudit check OUT; kmsaudit who-can --action kms:Decrypt --key alias/name OUT
#
# The IAM permissions it needs are listed in docs/inputs.md ("Collecting an account").
set -eu

if [ "$#" -lt 2 ]; then
    echo "usage: $0 OUT REGION [REGION...]" >&2
    exit 2
fi
out=$1
shift
aws=${AWS:-aws}

mkdir -p "$out/iam"
echo "collecting IAM authorization details" >&2
"$aws" iam get-account-authorization-details --output json \
    > "$out/iam/get-account-authorization-details.json"

for region in "$@"; do
    dir="$out/keys/$region"
    mkdir -p "$dir"
    echo "collecting the keys of $region" >&2
    "$aws" kms list-aliases --region "$region" --output json > "$dir/list-aliases.json"
    keys=$("$aws" kms list-keys --region "$region" --query 'Keys[].KeyId' --output text)
    for key in $keys; do
        kdir="$dir/$key"
        mkdir -p "$kdir"
        "$aws" kms describe-key --region "$region" --key-id "$key" --output json \
            > "$kdir/describe-key.json"
        # A key whose policy this caller may not read is left without one: kmsaudit then
        # answers undetermined for it and says the policy is missing.
        if ! "$aws" kms get-key-policy --region "$region" --key-id "$key" \
            --policy-name default --output json > "$kdir/get-key-policy.json"; then
            echo "cannot read the key policy of $key in $region: left out" >&2
            rm -f "$kdir/get-key-policy.json"
        fi
        if ! "$aws" kms list-grants --region "$region" --key-id "$key" --output json \
            > "$kdir/list-grants.json"; then
            echo "cannot list the grants of $key in $region: left out" >&2
            rm -f "$kdir/list-grants.json"
        fi
        if ! "$aws" kms list-resource-tags --region "$region" --key-id "$key" --output json \
            > "$kdir/list-resource-tags.json"; then
            rm -f "$kdir/list-resource-tags.json"
        fi
    done
done
echo "done: $out" >&2
