//! Writes the synthetic inputs the load benchmarks use, so their figures can be
//! reproduced:
//!
//! ```text
//! cargo run --release --example synth -- plan 500 > plan.json   # keys; 200 grants, 1,500 IAM
//! cargo run --release --example synth -- gaad 10000 > gaad.json # roles; 1,000 users, 200 groups
//! cargo run --release --example synth -- dir 1000 policies/     # key and identity policy files
//! cargo run --release --example synth -- shape wide 1000 out/    # one directory shape (below)
//! ```
//!
//! Directory shapes (`shape NAME FILES OUTDIR`), so that `check` is measured on more than one
//! kind of repository: `identity` (small identity policies only), `console` (the console's
//! default key policy, with key administrators and users), `wide` (key policies naming 20
//! principals under conditions, beside identity policies), `mixed` (`describe-key`,
//! `put-key-policy`, `get-key-policy` and `list-grants` outputs beside identity policies) and
//! `tiny` (one-statement key and identity policies: many files, little in each).
//!
//! The shapes follow `terraform show -json` (planned values, resource changes with
//! `after_unknown`, prior state, configuration) and `aws iam
//! get-account-authorization-details`; the policies are AWS's documented defaults and
//! ordinary least-privilege statements.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "writes the generated document, or its usage"
)]

use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";

fn key_policy(i: usize) -> String {
    json!({
        "Version": "2012-10-17",
        "Id": format!("key-policy-{i}"),
        "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/KeyAdmin")},
             "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
                        "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
                        "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
                        "kms:CancelKeyDeletion"],
             "Resource": "*"},
            {"Sid": "Allow use of the key", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/App{}", i % 1500)},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                        "kms:DescribeKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
            {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/App{}", i % 1500)},
             "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
             "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
        ]
    })
    .to_string()
}

fn identity_policy(i: usize) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "UseKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", key_id(i % 500))},
            {"Sid": "ReadBucket", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [format!("arn:aws:s3:::bucket-{i}"), format!("arn:aws:s3:::bucket-{i}/*")]}
        ]
    })
    .to_string()
}

fn trust_policy() -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]
    })
    .to_string()
}

fn key_id(i: usize) -> String {
    format!("{:08x}-1234-5678-9abc-{:012x}", i, i * 7919)
}

/// One resource in planned values, its change, its prior state and its configuration.
fn resource(ty: &str, name: &str, values: Value, unknown: Value) -> [Value; 4] {
    let address = format!("{ty}.{name}");
    let planned = json!({
        "address": address, "mode": "managed", "type": ty, "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
        "values": values, "sensitive_values": {"tags_all": {}}
    });
    let change = json!({
        "address": address, "mode": "managed", "type": ty, "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["update"], "before": values, "after": values,
                   "after_unknown": unknown, "before_sensitive": {}, "after_sensitive": {}}
    });
    let prior = json!({
        "address": address, "mode": "managed", "type": ty, "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
        "values": values, "sensitive_values": {"tags_all": {}}
    });
    let config = json!({
        "address": address, "mode": "managed", "type": ty, "name": name,
        "provider_config_key": "aws", "schema_version": 0,
        "expressions": {"description": {"constant_value": format!("{name} managed by Terraform")}}
    });
    [planned, change, prior, config]
}

fn plan(keys: usize) -> Value {
    let (mut planned, mut changes, mut prior, mut config) = (vec![], vec![], vec![], vec![]);
    let mut add = |r: [Value; 4]| {
        let [a, b, c, d] = r;
        planned.push(a);
        changes.push(b);
        prior.push(c);
        config.push(d);
    };
    for i in 0..keys {
        let id = key_id(i);
        add(resource(
            "aws_kms_key",
            &format!("k{i}"),
            json!({
                "arn": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"), "key_id": id,
                "id": id, "description": format!("key {i}"), "enable_key_rotation": true,
                "is_enabled": true, "key_usage": "ENCRYPT_DECRYPT", "multi_region": false,
                "customer_master_key_spec": "SYMMETRIC_DEFAULT", "deletion_window_in_days": 30,
                "bypass_policy_lockout_safety_check": false, "policy": key_policy(i),
                "tags": {"team": format!("t{}", i % 20)}, "tags_all": {"team": format!("t{}", i % 20)}
            }),
            json!({}),
        ));
    }
    for i in 0..200 {
        add(resource(
            "aws_kms_grant",
            &format!("g{i}"),
            json!({
                "key_id": key_id(i % keys.max(1)), "name": format!("grant-{i}"),
                "grantee_principal": format!("arn:aws:iam::{ACCOUNT}:role/App{i}"),
                "operations": ["Decrypt", "GenerateDataKey"], "retiring_principal": null,
                "grant_creation_tokens": null, "retire_on_delete": false,
                "constraints": [{"encryption_context_equals": {"app": format!("a{i}")},
                                 "encryption_context_subset": null}]
            }),
            json!({"grant_id": true, "grant_token": true, "id": true}),
        ));
    }
    for i in 0..750 {
        add(resource(
            "aws_iam_role",
            &format!("r{i}"),
            json!({
                "name": format!("App{i}"), "path": "/", "assume_role_policy": trust_policy(),
                "arn": format!("arn:aws:iam::{ACCOUNT}:role/App{i}"),
                "max_session_duration": 3600, "permissions_boundary": null, "tags": null
            }),
            json!({}),
        ));
        add(resource(
            "aws_iam_role_policy",
            &format!("p{i}"),
            json!({"name": format!("app-{i}"), "role": format!("App{i}"), "policy": identity_policy(i)}),
            json!({"id": true}),
        ));
    }
    json!({
        "format_version": "1.2", "terraform_version": "1.11.0",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "prior_state": {"format_version": "1.0", "terraform_version": "1.11.0",
                        "values": {"root_module": {"resources": prior}}},
        "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}},
                          "root_module": {"resources": config}},
        "applyable": true, "complete": true, "errored": false
    })
}

fn gaad(roles: usize) -> Value {
    // The AWS CLI prints policy documents as JSON objects (it decodes the API's
    // URL-encoded strings).
    let doc = |text: String| serde_json::from_str::<Value>(&text).unwrap_or(Value::Null);
    let identity_policy = |i: usize| doc(identity_policy(i));
    let trust_policy = || doc(trust_policy());
    let tags = |i: usize| json!([{"Key": "team", "Value": format!("t{}", i % 20)}]);
    let users: Vec<Value> = (0..1000).map(|i| json!({
        "Path": "/", "UserName": format!("user{i}"), "UserId": format!("AIDA{i:017}"),
        "Arn": format!("arn:aws:iam::{ACCOUNT}:user/user{i}"), "CreateDate": "2024-01-01T00:00:00Z",
        "UserPolicyList": [{"PolicyName": "inline", "PolicyDocument": identity_policy(i)}],
        "GroupList": [format!("group{}", i % 200)],
        "AttachedManagedPolicies": [{"PolicyName": format!("managed{}", i % 2000),
            "PolicyArn": format!("arn:aws:iam::{ACCOUNT}:policy/managed{}", i % 2000)}],
        "Tags": tags(i)
    })).collect();
    let groups: Vec<Value> = (0..200).map(|i| json!({
        "Path": "/", "GroupName": format!("group{i}"), "GroupId": format!("AGPA{i:017}"),
        "Arn": format!("arn:aws:iam::{ACCOUNT}:group/group{i}"), "CreateDate": "2024-01-01T00:00:00Z",
        "GroupPolicyList": [{"PolicyName": "inline", "PolicyDocument": identity_policy(i)}],
        "AttachedManagedPolicies": []
    })).collect();
    let roles: Vec<Value> = (0..roles).map(|i| json!({
        "Path": "/", "RoleName": format!("App{i}"), "RoleId": format!("AROA{i:017}"),
        "Arn": format!("arn:aws:iam::{ACCOUNT}:role/App{i}"), "CreateDate": "2024-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": trust_policy(),
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": identity_policy(i)}],
        "AttachedManagedPolicies": [{"PolicyName": format!("managed{}", i % 2000),
            "PolicyArn": format!("arn:aws:iam::{ACCOUNT}:policy/managed{}", i % 2000)}],
        "Tags": tags(i), "RoleLastUsed": {}
    })).collect();
    let policies: Vec<Value> = (0..2000).map(|i| json!({
        "PolicyName": format!("managed{i}"), "PolicyId": format!("ANPA{i:017}"),
        "Arn": format!("arn:aws:iam::{ACCOUNT}:policy/managed{i}"), "Path": "/",
        "DefaultVersionId": "v2", "AttachmentCount": 1, "IsAttachable": true,
        "PolicyVersionList": [
            {"Document": identity_policy(i), "VersionId": "v2", "IsDefaultVersion": true},
            {"Document": identity_policy(i + 1), "VersionId": "v1", "IsDefaultVersion": false}
        ]
    })).collect();
    json!({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles,
           "Policies": policies, "IsTruncated": false})
}

/// A key policy for the directory workload: the console default, with every tenth key shared
/// with another account through S3 and every fiftieth carrying a planted problem (a
/// `Principal: "*"` scoped only by `kms:ViaService`, which is public).
fn dir_key_policy(i: usize) -> String {
    let mut v: Value = serde_json::from_str(&key_policy(i)).unwrap_or(Value::Null);
    if let Some(list) = v.get_mut("Statement").and_then(Value::as_array_mut) {
        if i.is_multiple_of(10) {
            list.push(
                json!({"Sid": "CrossAccountViaS3", "Effect": "Allow", "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com",
                                               "kms:CallerAccount": "444455556666"}}}),
            );
        }
        if i.is_multiple_of(50) {
            list.push(
                json!({"Sid": "PlantedPublic", "Effect": "Allow", "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt", "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}}}),
            );
        }
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// Writes `n` policy files into `dir`: even ones key policies, odd ones identity policies.
fn write_dir(n: usize, dir: &str) -> std::process::ExitCode {
    if std::fs::create_dir_all(dir).is_err() {
        eprintln!("cannot create {dir}");
        return std::process::ExitCode::from(1);
    }
    for i in 0..n {
        let (name, text) = if i % 2 == 0 {
            (format!("key-{i:05}.json"), dir_key_policy(i))
        } else {
            (format!("identity-{i:05}.json"), identity_policy(i))
        };
        if std::fs::write(std::path::Path::new(dir).join(name), text).is_err() {
            eprintln!("cannot write into {dir}");
            return std::process::ExitCode::from(1);
        }
    }
    std::process::ExitCode::SUCCESS
}

/// A small identity policy: one or two statements on KMS keys and S3 or SQS.
fn small_identity_policy(i: usize) -> String {
    let key = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", key_id(i % 500));
    let mut statements = vec![json!({"Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], "Resource": key})];
    match i % 3 {
        0 => statements.push(json!({"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::bucket-{i}/*")})),
        1 => statements.push(json!({"Effect": "Allow",
            "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
            "Resource": format!("arn:aws:sqs:us-east-1:{ACCOUNT}:queue-{i}")})),
        _ => {}
    }
    serde_json::to_string_pretty(&json!({"Version": "2012-10-17", "Statement": statements}))
        .unwrap_or_default()
}

/// The console's default key policy for a symmetric key with key administrators and key
/// users chosen, as the console writes it (two-space indent, one statement per block).
fn console_key_policy(i: usize) -> Value {
    let admins: Vec<String> = (0..2)
        .map(|a| format!("arn:aws:iam::{ACCOUNT}:role/Admin{}", (i + a) % 40))
        .collect();
    let users: Vec<String> = (0..3)
        .map(|u| format!("arn:aws:iam::{ACCOUNT}:role/App{}", (i * 3 + u) % 1500))
        .collect();
    json!({
        "Version": "2012-10-17",
        "Id": "key-consolepolicy-3",
        "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
             "Principal": {"AWS": admins},
             "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
                        "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
                        "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
                        "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"],
             "Resource": "*"},
            {"Sid": "Allow use of the key", "Effect": "Allow",
             "Principal": {"AWS": users.clone()},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                        "kms:DescribeKey"],
             "Resource": "*"},
            {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
             "Principal": {"AWS": users},
             "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
             "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}
        ]
    })
}

/// A key policy naming 20 principals (of this account and two others) under conditions: the
/// console default grown over the years of a shared key.
fn wide_key_policy(i: usize) -> Value {
    let accounts = [ACCOUNT, "444455556666", "777788889999"];
    let principals: Vec<String> = (0..20)
        .map(|p| {
            let account = accounts.get(p % 3).copied().unwrap_or(ACCOUNT);
            format!("arn:aws:iam::{account}:role/Service{}", (i + p) % 700)
        })
        .collect();
    let (first, rest) = principals.split_at(10);
    json!({
        "Version": "2012-10-17",
        "Id": format!("shared-key-{i}"),
        "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "KeyAdministrators", "Effect": "Allow",
             "Principal": {"AWS": [format!("arn:aws:iam::{ACCOUNT}:role/KeyAdmin"),
                                   format!("arn:aws:iam::{ACCOUNT}:role/Break-Glass")]},
             "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
                        "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
                        "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
                        "kms:CancelKeyDeletion"],
             "Resource": "*",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
            {"Sid": "UseThroughServices", "Effect": "Allow",
             "Principal": {"AWS": first},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                        "kms:DescribeKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {
                 "kms:ViaService": ["s3.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"],
                 "aws:PrincipalOrgID": "o-a1b2c3d4e5"}}},
            {"Sid": "DecryptWithContext", "Effect": "Allow",
             "Principal": {"AWS": rest},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:app": format!("app-{}", i % 50)},
                           "StringLike": {"kms:CallerAccount": ["111122223333", "4444*"]}}},
            {"Sid": "AllowGrantsForResources", "Effect": "Allow",
             "Principal": {"AWS": principals},
             "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
             "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
            {"Sid": "DenyOutsideTls", "Effect": "Deny",
             "Principal": "*", "Action": "kms:*", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        ]
    })
}

/// A one-statement policy: a root-delegation key policy or a one-action identity policy.
fn tiny_policy(i: usize) -> (String, String) {
    if i.is_multiple_of(2) {
        (
            format!("key-{i:05}.json"),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                "Action": "kms:*", "Resource": "*"}]})
            .to_string(),
        )
    } else {
        (
            format!("identity-{i:05}.json"),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", key_id(i))}]})
            .to_string(),
        )
    }
}

/// `aws kms describe-key` output for key `i`.
fn describe_key(i: usize) -> String {
    let id = key_id(i);
    let v = json!({"KeyMetadata": {
        "AWSAccountId": ACCOUNT, "KeyId": id,
        "Arn": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"),
        "CreationDate": 1_700_000_000.0 + i as f64, "Enabled": true,
        "Description": format!("key {i}"), "KeyUsage": "ENCRYPT_DECRYPT", "KeyState": "Enabled",
        "Origin": "AWS_KMS", "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT", "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": false}});
    pretty4(&v)
}

/// `aws kms list-grants` output for key `i`: grants AWS services made for resources, and one
/// a role made by hand.
fn list_grants(i: usize) -> String {
    let id = key_id(i);
    let arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}");
    let grants: Vec<Value> = (0..3)
        .map(|g| {
            let by_hand = g == 2;
            json!({
                "KeyId": arn, "GrantId": format!("{:064x}", i * 16 + g),
                "Name": if by_hand { format!("manual-{i}") } else { String::new() },
                "CreationDate": 1_700_000_000.0 + (i * 3 + g) as f64,
                "GranteePrincipal": if by_hand {
                    format!("arn:aws:iam::{ACCOUNT}:role/App{}", i % 1500)
                } else {
                    format!("arn:aws:sts::{ACCOUNT}:assumed-role/aws-service-role/ebs-{i}")
                },
                "RetiringPrincipal": if by_hand { Value::Null } else { json!("ec2.us-east-1.amazonaws.com") },
                "IssuingAccount": format!("arn:aws:iam::{ACCOUNT}:root"),
                "Operations": if by_hand { json!(["Decrypt", "Encrypt"]) }
                              else { json!(["Decrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "CreateGrant", "RetireGrant"]) },
                "Constraints": if by_hand { json!({}) } else {
                    json!({"EncryptionContextSubset": {"aws:ebs:id": format!("vol-{i:017x}")}})
                }
            })
        })
        .collect();
    pretty4(&json!({"Grants": grants, "Truncated": false}))
}

/// The AWS CLI's four-space layout.
fn pretty4(v: &Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    match serde::Serialize::serialize(v, &mut ser) {
        Ok(()) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => String::new(),
    }
}

/// File `i` of directory shape `shape`: its name and text.
fn shape_file(shape: &str, i: usize) -> Option<(String, String)> {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    Some(match shape {
        "identity" => (format!("identity-{i:05}.json"), small_identity_policy(i)),
        "console" => (format!("key-{i:05}.json"), pretty(&console_key_policy(i))),
        "wide" if i.is_multiple_of(2) => (format!("key-{i:05}.json"), pretty(&wide_key_policy(i))),
        "wide" => (format!("identity-{i:05}.json"), identity_policy(i)),
        "mixed" => {
            // Per key: its description, its policy as put and as read back, its grants; and an
            // identity policy.
            let k = i / 5;
            let arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", key_id(k));
            match i % 5 {
                0 => (format!("k{k:05}-describe-key.json"), describe_key(k)),
                1 => (
                    format!("k{k:05}-put-key-policy.json"),
                    pretty4(&json!({"KeyId": arn, "PolicyName": "default",
                        "Policy": pretty(&console_key_policy(k))})),
                ),
                2 => (
                    format!("k{k:05}-get-key-policy.json"),
                    pretty4(&json!({"Policy": pretty(&wide_key_policy(k))})),
                ),
                3 => (format!("k{k:05}-list-grants.json"), list_grants(k)),
                _ => (format!("k{k:05}-identity.json"), small_identity_policy(k)),
            }
        }
        "tiny" => tiny_policy(i),
        // The keys of `synth plan KEYS` as an AWS CLI dump gives them: per key its
        // `describe-key` and its `put-key-policy` input (2 files a key), for `can --requests`.
        "cli-keys" => {
            let k = i / 2;
            let arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", key_id(k));
            if i.is_multiple_of(2) {
                (format!("k{k:05}-describe-key.json"), describe_key(k))
            } else {
                (
                    format!("k{k:05}-put-key-policy.json"),
                    pretty4(&json!({"KeyId": arn, "PolicyName": "default",
                        "Policy": key_policy(k)})),
                )
            }
        }
        _ => return None,
    })
}

/// Writes `n` files of directory shape `shape` into `dir`.
fn write_shape(shape: &str, n: usize, dir: &str) -> std::process::ExitCode {
    if shape_file(shape, 0).is_none() {
        eprintln!("unknown shape `{shape}`: identity, console, wide, mixed, tiny or cli-keys");
        return std::process::ExitCode::from(2);
    }
    if std::fs::create_dir_all(dir).is_err() {
        eprintln!("cannot create {dir}");
        return std::process::ExitCode::from(1);
    }
    for i in 0..n {
        let Some((name, text)) = shape_file(shape, i) else {
            return std::process::ExitCode::from(2);
        };
        if std::fs::write(std::path::Path::new(dir).join(name), text).is_err() {
            eprintln!("cannot write into {dir}");
            return std::process::ExitCode::from(1);
        }
    }
    std::process::ExitCode::SUCCESS
}

/// `can --requests` lines: principals of `synth gaad`, actions a workload uses, keys of
/// `synth plan KEYS`, some through S3 with an encryption context.
fn write_requests(n: usize, keys: usize) -> std::process::ExitCode {
    use std::io::Write;
    let actions = [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
        "kms:CreateGrant",
        "kms:PutKeyPolicy",
    ];
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..n {
        let principal = if i % 5 == 0 {
            format!("arn:aws:iam::{ACCOUNT}:user/user{}", i % 1000)
        } else {
            format!("arn:aws:sts::{ACCOUNT}:assumed-role/App{}/s{i}", i % 5000)
        };
        let action = actions
            .get(i % actions.len())
            .copied()
            .unwrap_or("kms:Decrypt");
        let key = format!(
            "arn:aws:kms:us-east-1:{ACCOUNT}:key/{}",
            key_id(i % keys.max(1))
        );
        let line = if i % 3 == 0 {
            json!({
                "id": format!("r{i}"), "principal": principal, "action": action, "key": key,
                "via_service": "s3.us-east-1.amazonaws.com",
                "encryption_context": {"aws:s3:arn": format!("arn:aws:s3:::bucket-{}", i % 5000)},
            })
        } else {
            json!({"id": format!("r{i}"), "principal": principal, "action": action, "key": key})
        };
        if writeln!(out, "{line}").is_err() {
            return std::process::ExitCode::from(1);
        }
    }
    std::process::ExitCode::SUCCESS
}

/// A pull request on the `plan KEYS` world: the same plan, where about 1% of the resources
/// change. Eight key policies gain a statement for an external account, eight role policies
/// gain an action, a grant is created and one trust policy lets another account assume its
/// role.
fn plan_change(keys: usize) -> Value {
    let mut doc = plan(keys);
    let external = "arn:aws:iam::444455556666:root";
    let step = (keys / 8).max(1);
    let mut edits: Vec<(String, String, Value)> = Vec::new();
    for i in (0..keys).step_by(step).take(8) {
        let mut p: Value = serde_json::from_str(&key_policy(i)).unwrap_or(Value::Null);
        if let Some(list) = p.get_mut("Statement").and_then(Value::as_array_mut) {
            list.push(
                json!({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": external},
                "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}),
            );
        }
        edits.push((
            format!("aws_kms_key.k{i}"),
            "policy".into(),
            Value::String(p.to_string()),
        ));
    }
    for i in (0..750).step_by(90).take(8) {
        let mut p: Value = serde_json::from_str(&identity_policy(i)).unwrap_or(Value::Null);
        if let Some(list) = p.get_mut("Statement").and_then(Value::as_array_mut) {
            list.push(json!({"Effect": "Allow", "Action": ["kms:Encrypt", "kms:ReEncrypt*"],
                "Resource": format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", key_id(i % keys.max(1)))}));
        }
        edits.push((
            format!("aws_iam_role_policy.p{i}"),
            "policy".into(),
            Value::String(p.to_string()),
        ));
    }
    let mut trust: Value = serde_json::from_str(&trust_policy()).unwrap_or(Value::Null);
    if let Some(list) = trust.get_mut("Statement").and_then(Value::as_array_mut) {
        list.push(json!({"Effect": "Allow", "Principal": {"AWS": external},
            "Action": "sts:AssumeRole"}));
    }
    edits.push((
        "aws_iam_role.r7".into(),
        "assume_role_policy".into(),
        Value::String(trust.to_string()),
    ));
    let edit = |list: Option<&mut Value>, at: &str, pointer: &str| {
        for r in list.and_then(Value::as_array_mut).into_iter().flatten() {
            let Some(address) = r.get("address").and_then(Value::as_str).map(str::to_owned) else {
                continue;
            };
            for (addr, field, value) in &edits {
                if *addr != address {
                    continue;
                }
                if let Some(v) = r.pointer_mut(pointer).and_then(Value::as_object_mut) {
                    v.insert(field.clone(), value.clone());
                }
                if at == "change" {
                    if let Some(a) = r.pointer_mut("/change/actions") {
                        *a = json!(["update"]);
                    }
                }
            }
        }
    };
    edit(
        doc.pointer_mut("/resource_changes"),
        "change",
        "/change/after",
    );
    edit(
        doc.pointer_mut("/planned_values/root_module/resources"),
        "planned",
        "/values",
    );
    let [planned, mut change, _, config] = resource(
        "aws_kms_grant",
        "partner",
        json!({
            "key_id": key_id(0), "name": "grant-partner",
            "grantee_principal": format!("arn:aws:iam::{ACCOUNT}:role/App3"),
            "operations": ["Decrypt", "CreateGrant"], "retiring_principal": null,
            "grant_creation_tokens": null, "retire_on_delete": false, "constraints": []
        }),
        json!({"grant_id": true, "grant_token": true, "id": true}),
    );
    if let Some(c) = change.get_mut("change").and_then(Value::as_object_mut) {
        c.insert("actions".into(), json!(["create"]));
        c.insert("before".into(), Value::Null);
    }
    for (pointer, v) in [
        ("/planned_values/root_module/resources", planned),
        ("/resource_changes", change),
        ("/configuration/root_module/resources", config),
    ] {
        if let Some(list) = doc.pointer_mut(pointer).and_then(Value::as_array_mut) {
            list.push(v);
        }
    }
    doc
}

/// The `plan KEYS` world created from nothing: every change a `create` with no `before`, and
/// no prior state.
fn plan_create(keys: usize) -> Value {
    let mut doc = plan(keys);
    for r in doc
        .pointer_mut("/resource_changes")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(c) = r.get_mut("change").and_then(Value::as_object_mut) {
            c.insert("actions".into(), json!(["create"]));
            c.insert("before".into(), Value::Null);
        }
    }
    if let Some(o) = doc.as_object_mut() {
        o.remove("prior_state");
    }
    doc
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args.get(1).and_then(|s| s.parse().ok());
    if let (Some("requests"), Some(n)) = (args.first().map(String::as_str), n) {
        let keys = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(500);
        return write_requests(n, keys);
    }
    if let (Some("dir"), Some(n), Some(dir)) = (args.first().map(String::as_str), n, args.get(2)) {
        return write_dir(n, dir);
    }
    if let (Some("shape"), Some(shape), Some(n), Some(dir)) = (
        args.first().map(String::as_str),
        args.get(1),
        args.get(2).and_then(|s| s.parse().ok()),
        args.get(3),
    ) {
        return write_shape(shape, n, dir);
    }
    let doc = match (args.first().map(String::as_str), n) {
        (Some("plan"), Some(n)) => plan(n),
        (Some("plan-change"), Some(n)) => plan_change(n),
        (Some("plan-create"), Some(n)) => plan_create(n),
        (Some("gaad"), Some(n)) => gaad(n),
        _ => {
            eprintln!(
                "usage: synth plan KEYS | synth plan-change KEYS | synth plan-create KEYS | synth gaad ROLES | synth dir FILES OUTDIR | synth shape NAME FILES OUTDIR | synth requests N KEYS"
            );
            return std::process::ExitCode::from(2);
        }
    };
    // `terraform show -json` prints compact JSON; the AWS CLI indents by four spaces.
    let text = if args.first().is_some_and(|a| a.starts_with("plan")) {
        serde_json::to_string(&doc)
    } else {
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(&doc, &mut ser)
            .map(|()| String::from_utf8_lossy(&buf).into_owned())
    };
    match text {
        Ok(s) => {
            println!("{s}");
            std::process::ExitCode::SUCCESS
        }
        Err(_) => std::process::ExitCode::from(1),
    }
}
