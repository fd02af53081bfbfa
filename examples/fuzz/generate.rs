//! Structure-aware generators: an input is a tape of choices (two bytes a choice, 0 once the
//! tape runs out, so a shorter tape is a simpler case), and a generator turns it into the
//! files and the command line of one `kmsaudit` run. Byte mutations of the tape are then
//! mutations of the structure, and coverage feedback keeps the tapes that reach new code.
//!
//! The cases reach what plain mutation of fixture bytes rarely does: `can` with grants, SCP
//! and RCP levels, a permissions boundary, session and VPC endpoint policies and request
//! context keys; `who-can`, `what-can`, `matrix` and `graph` (every format) over an
//! authorization-details dump of roles that may assume each other; and `check` in every
//! report format with a configuration file. Names and values draw now and then on strings
//! that try to forge output (a line break followed by a workflow command or a diagram
//! statement, terminal escapes, bidirectional overrides, quotes, characters XML forbids).

use serde_json::{Value, json};

use crate::soundness::Tape;

/// Two bytes a choice; 0 once the tape runs out.
#[derive(Debug)]
pub struct ByteTape<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> ByteTape<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        ByteTape { bytes, pos: 0 }
    }
}

impl Tape for ByteTape<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let hi = self.bytes.get(self.pos).copied().unwrap_or(0);
        let lo = self.bytes.get(self.pos + 1).copied().unwrap_or(0);
        self.pos += 2;
        if n == 0 {
            0
        } else {
            usize::from(u16::from_be_bytes([hi, lo])) % n
        }
    }
}

/// The files and the command line of one run.
#[derive(Debug, Default)]
pub struct Case {
    /// File name (inside the run's directory) and contents.
    pub files: Vec<(String, Vec<u8>)>,
    /// The arguments after `kmsaudit`; a file is named `@name` and replaced by its path.
    pub args: Vec<String>,
    /// The report format, when the command prints one the checker knows.
    pub format: &'static str,
}

impl Case {
    fn file(&mut self, name: &str, v: &Value) -> String {
        self.files.push((
            name.to_owned(),
            serde_json::to_vec_pretty(v).unwrap_or_default(),
        ));
        format!("@{name}")
    }
    fn arg(&mut self, a: &str) {
        self.args.push(a.to_owned());
    }
    fn opt(&mut self, a: &str, v: &str) {
        self.arg(a);
        self.arg(v);
    }
}

pub const ACCOUNT: &str = "111122223333";
pub const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// Strings that try to forge output. The renderers must neutralise each: a line of output
/// that starts with `INJECT` or `::add-mask` is a forgery (see `formats::forged`).
pub const HOSTILE: &[&str] = &[
    "x\nINJECT --> y",
    "x\r\n::add-mask::secret",
    "x\n::error file=README.md,line=1::forged",
    "x\"];\nINJECT[\"",
    "x\u{1b}]0;title\u{7}\u{1b}[2J",
    "x\u{202e}gnp.exe",
    "x\u{fffe}\u{1}\u{85}",
    "x</testcase>&amp;<INJECT/>",
    "x%0AINJECT",
    "x\\\"\nINJECT",
];

fn pick<'s>(t: &mut dyn Tape, from: &[&'s str]) -> &'s str {
    from.get(t.pick(from.len())).copied().unwrap_or("")
}

/// Mostly a plain value; one time in sixteen a hostile one.
fn name(t: &mut dyn Tape, plain: &[&str]) -> String {
    if t.pick(16) == 15 {
        format!("{}{}", pick(t, plain), pick(t, HOSTILE))
    } else {
        pick(t, plain).to_owned()
    }
}

const ROLES: &[&str] = &[
    "App", "Admin", "KeyAdmin", "Batch", "Ext", "a/b", "Deployer", "*",
];

fn principal_arn(t: &mut dyn Tape) -> String {
    match t.pick(8) {
        0 => format!("arn:aws:iam::{ACCOUNT}:root"),
        1 => ACCOUNT.to_owned(),
        2 => "arn:aws:iam::444455556666:root".to_owned(),
        3 => format!("arn:aws:iam::{ACCOUNT}:user/{}", name(t, &["alice", "bob"])),
        4 => format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/{}/s",
            name(t, &["App", "Batch"])
        ),
        5 => "*".to_owned(),
        _ => format!("arn:aws:iam::{ACCOUNT}:role/{}", name(t, ROLES)),
    }
}

const ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "kms:CreateGrant",
    "kms:RetireGrant",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:DescribeKey",
    "kms:Create*",
    "kms:*",
    "*",
    "sts:AssumeRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PassRole",
    "kms:Sign",
];

const REQUEST_ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:DescribeKey",
    "kms:Sign",
];

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringLike",
    "StringNotEquals",
    "StringNotLike",
    "StringEqualsIgnoreCase",
    "StringEqualsIfExists",
    "ArnLike",
    "ArnNotEquals",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "DateGreaterThan",
    "DateLessThan",
    "NumericLessThan",
    "Null",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringLike",
    "ForAnyValue:StringNotEquals",
];

const CONDITION_KEYS: &[&str] = &[
    "kms:ViaService",
    "kms:CallerAccount",
    "kms:EncryptionContext:k",
    "kms:EncryptionContextKeys",
    "kms:GrantIsForAWSResource",
    "kms:GrantOperations",
    "kms:GrantConstraintType",
    "kms:RequestAlias",
    "kms:ResourceAliases",
    "aws:PrincipalOrgID",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalTag/team",
    "aws:SourceVpce",
    "aws:SourceVpc",
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:MultiFactorAuthPresent",
    "aws:SecureTransport",
    "aws:ResourceTag/env",
    "aws:CalledVia",
    "aws:userid",
];

const VALUES: &[&str] = &[
    "*",
    "s3.us-east-1.amazonaws.com",
    "ec2.*.amazonaws.com",
    "111122223333",
    "o-ourorg1234",
    "vpce-1a2b3c",
    "vpc-1",
    "10.0.0.0/8",
    "2020-01-01T00:00:00Z",
    "true",
    "false",
    "v",
    "k",
    "${aws:username}",
    "${aws:PrincipalTag/team}",
    "arn:aws:iam::111122223333:role/App",
    "alias/app",
    "Decrypt",
    "10",
];

fn value(t: &mut dyn Tape) -> Value {
    match t.pick(6) {
        0 => json!([name(t, VALUES), name(t, VALUES)]),
        1 => json!(t.flip()),
        _ => json!(name(t, VALUES)),
    }
}

fn one_or_many(t: &mut dyn Tape, f: &mut dyn FnMut(&mut dyn Tape) -> String) -> Value {
    match t.pick(3) {
        0 => json!([f(t), f(t)]),
        _ => json!(f(t)),
    }
}

/// A statement of a policy of `kind`: `resource` policies (key, trust, RCP) name principals.
fn statement(t: &mut dyn Tape, resource: bool) -> Value {
    let mut s = serde_json::Map::new();
    if t.flip() {
        s.insert("Sid".into(), json!(name(t, &["Sid1", "Allow use", ""])));
    }
    let effect = if t.pick(4) == 0 { "Deny" } else { "Allow" };
    s.insert("Effect".into(), json!(effect));
    if resource {
        let p = match t.pick(4) {
            0 => json!("*"),
            1 => json!({"Service": name(t, &["s3.amazonaws.com", "ec2.amazonaws.com"])}),
            _ => json!({"AWS": one_or_many(t, &mut |t| principal_arn(t))}),
        };
        let field = if t.pick(8) == 0 {
            "NotPrincipal"
        } else {
            "Principal"
        };
        s.insert(field.into(), p);
    }
    let field = if t.pick(6) == 0 {
        "NotAction"
    } else {
        "Action"
    };
    s.insert(
        field.into(),
        one_or_many(t, &mut |t| pick(t, ACTIONS).to_owned()),
    );
    let resources: &[&str] = &[
        "*",
        KEY,
        "arn:aws:kms:*:111122223333:key/*",
        "arn:aws:iam::111122223333:role/*",
        "arn:aws:kms:us-east-1:444455556666:key/*",
    ];
    let field = if t.pick(8) == 0 {
        "NotResource"
    } else {
        "Resource"
    };
    s.insert(
        field.into(),
        one_or_many(t, &mut |t| pick(t, resources).to_owned()),
    );
    let conditions = t.pick(4);
    if conditions > 0 {
        let mut c = serde_json::Map::new();
        for _ in 0..conditions {
            let op = pick(t, OPERATORS);
            let mut keys = serde_json::Map::new();
            for _ in 0..1 + t.pick(2) {
                keys.insert(name(t, CONDITION_KEYS), value(t));
            }
            c.insert(op.to_owned(), Value::Object(keys));
        }
        s.insert("Condition".into(), Value::Object(c));
    }
    Value::Object(s)
}

fn policy(t: &mut dyn Tape, resource: bool) -> Value {
    let n = 1 + t.pick(4);
    let statements: Vec<Value> = (0..n).map(|_| statement(t, resource)).collect();
    let version = if t.pick(16) == 0 {
        "2008-10-17"
    } else {
        "2012-10-17"
    };
    json!({"Version": version, "Statement": statements})
}

fn grants(t: &mut dyn Tape) -> Value {
    let n = t.pick(4);
    let ops: &[&str] = &[
        "Decrypt",
        "Encrypt",
        "GenerateDataKey",
        "CreateGrant",
        "RetireGrant",
        "ReEncryptFrom",
        "DescribeKey",
    ];
    let list: Vec<Value> = (0..n)
        .map(|i| {
            let mut g = json!({
                "KeyId": KEY,
                "GrantId": format!("g{i}"),
                "Name": name(t, &["", "app"]),
                "CreationDate": 1_568_565_290.0,
                "GranteePrincipal": principal_arn(t),
                "IssuingAccount": format!("arn:aws:iam::{ACCOUNT}:root"),
                "Operations": [pick(t, ops), pick(t, ops)],
            });
            if t.flip() {
                g["RetiringPrincipal"] = json!(principal_arn(t));
            }
            match t.pick(3) {
                0 => g["Constraints"] = json!({"EncryptionContextEquals": {"k": name(t, VALUES)}}),
                1 => g["Constraints"] = json!({"EncryptionContextSubset": {"k": name(t, VALUES)}}),
                _ => {}
            }
            g
        })
        .collect();
    json!({"Grants": list})
}

/// `can` with every kind of policy the engine weighs and the request's context keys.
pub fn can(t: &mut dyn Tape) -> Case {
    let mut c = Case::default();
    c.arg("can");
    let principal = match t.pick(4) {
        0 => format!("arn:aws:iam::{ACCOUNT}:user/{}", name(t, &["alice"])),
        1 => "arn:aws:iam::444455556666:role/Partner".to_owned(),
        _ => format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/{}/s1",
            name(t, &["App", "Batch", "KeyAdmin"])
        ),
    };
    c.opt("--principal", &principal);
    c.opt("--action", pick(t, REQUEST_ACTIONS));
    c.opt("--key", KEY);
    let kp = policy(t, true);
    let f = c.file("key-policy.json", &kp);
    c.opt("--key-policy", &f);
    match t.pick(3) {
        0 => c.arg("--identity-unknown"),
        1 => {}
        _ => {
            let p = policy(t, false);
            let f = c.file("identity.json", &p);
            c.opt("--identity-policy", &f);
        }
    }
    if t.flip() {
        let g = grants(t);
        let f = c.file("grants.json", &g);
        c.opt("--grants", &f);
    }
    for (flag, what) in [("--scp", "scp"), ("--rcp", "rcp")] {
        for level in 0..t.pick(4) {
            let n = 1 + t.pick(2);
            let resource = what == "rcp";
            let level_policies: Vec<Value> = (0..n).map(|_| policy(t, resource)).collect();
            let v = if n == 1 && t.flip() {
                level_policies.into_iter().next().unwrap_or(Value::Null)
            } else {
                Value::Array(level_policies)
            };
            let f = c.file(&format!("{what}{level}.json"), &v);
            c.opt(flag, &f);
        }
    }
    if t.pick(3) == 0 {
        let p = policy(t, false);
        let f = c.file("boundary.json", &p);
        c.opt("--boundary", &f);
    }
    for i in 0..t.pick(3) {
        let p = policy(t, false);
        let f = c.file(&format!("session{i}.json"), &p);
        c.opt("--session-policy", &f);
    }
    if t.pick(3) == 0 {
        let p = policy(t, true);
        let f = c.file("vpce.json", &p);
        c.opt("--vpce-policy", &f);
    }
    for _ in 0..t.pick(4) {
        let k = pick(
            t,
            &[
                "aws:SourceVpce",
                "aws:SourceVpc",
                "aws:SourceIp",
                "aws:PrincipalOrgID",
                "aws:CurrentTime",
                "aws:MultiFactorAuthPresent",
                "aws:SecureTransport",
                "aws:CalledVia",
                "kms:GrantOperations",
            ],
        );
        let v = name(t, VALUES);
        c.opt("--context", &format!("{k}={v}"));
    }
    for _ in 0..t.pick(3) {
        let v = name(t, VALUES);
        c.opt("--encryption-context", &format!("k={v}"));
    }
    if t.flip() {
        c.opt("--via-service", "s3.us-east-1.amazonaws.com");
    }
    if t.pick(3) == 0 {
        c.opt("--principal-tag", &format!("team={}", name(t, VALUES)));
    }
    match t.pick(4) {
        0 => c.arg("--key-no-tags"),
        1 => c.opt("--key-tag", "env=prod"),
        _ => {}
    }
    if t.pick(4) == 0 {
        c.opt("--key-manager", "aws");
    }
    if t.flip() {
        c.arg("--residual");
    }
    if t.pick(4) == 0 {
        c.arg("--assume-absent");
    }
    c.format = if t.pick(3) == 0 { "human" } else { "json" };
    c.opt("--format", c.format);
    c
}

fn role(t: &mut dyn Tape, i: usize, n: usize) -> Value {
    let other = |t: &mut dyn Tape| format!("arn:aws:iam::{ACCOUNT}:role/r{}", t.pick(n));
    let trust_principal = match t.pick(4) {
        0 => json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
        1 => json!({"Service": "ec2.amazonaws.com"}),
        _ => json!({"AWS": one_or_many(t, &mut |t| other(t))}),
    };
    let trust = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": trust_principal, "Action": "sts:AssumeRole"}
    ]});
    let mut inline = vec![json!({"PolicyName": "p", "PolicyDocument": policy(t, false)})];
    if t.flip() {
        inline.push(json!({"PolicyName": "assume", "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": if t.flip() { json!("*") } else { json!(other(t)) }}]
        }}));
    }
    let role_name = if t.pick(32) == 0 {
        format!("r{i}{}", pick(t, HOSTILE))
    } else {
        format!("r{i}")
    };
    json!({
        "Path": "/",
        "RoleName": role_name,
        "RoleId": format!("AROA{i:016}"),
        "Arn": format!("arn:aws:iam::{ACCOUNT}:role/{role_name}"),
        "CreateDate": "2024-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": trust,
        "InstanceProfileList": [],
        "RolePolicyList": inline,
        "AttachedManagedPolicies": [],
        "Tags": [],
        "RoleLastUsed": {}
    })
}

/// The graph commands over an authorization-details dump, a key policy, a description and
/// grants.
pub fn graph(t: &mut dyn Tape) -> Case {
    let mut c = Case::default();
    let n = 1 + t.pick(24);
    let roles: Vec<Value> = (0..n).map(|i| role(t, i, n)).collect();
    let users: Vec<Value> = (0..t.pick(3))
        .map(|i| {
            json!({
                "Path": "/",
                "UserName": format!("u{i}"),
                "UserId": format!("AIDA{i:016}"),
                "Arn": format!("arn:aws:iam::{ACCOUNT}:user/u{i}"),
                "CreateDate": "2024-01-01T00:00:00Z",
                "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": policy(t, false)}],
                "GroupList": [],
                "AttachedManagedPolicies": [],
                "Tags": []
            })
        })
        .collect();
    let details = json!({
        "UserDetailList": users,
        "GroupDetailList": [],
        "RoleDetailList": roles,
        "Policies": []
    });
    let kp = policy(t, true);
    let kp_text = serde_json::to_string(&kp).unwrap_or_default();
    let describe = json!({"KeyMetadata": {
        "AWSAccountId": ACCOUNT,
        "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
        "Arn": KEY,
        "CreationDate": "2024-01-01T00:00:00Z",
        "Enabled": true,
        "Description": name(t, &["payments"]),
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": "Enabled",
        "Origin": "AWS_KMS",
        "KeyManager": if t.pick(6) == 0 { "AWS" } else { "CUSTOMER" },
        "KeySpec": "SYMMETRIC_DEFAULT",
        "MultiRegion": false
    }});
    let command = t.pick(6);
    c.arg(match command {
        0 => "what-can",
        1 => "matrix",
        2 | 3 => "graph",
        _ => "who-can",
    });
    let files = [
        c.file("authorization-details.json", &details),
        c.file("get-key-policy.json", &json!({"Policy": kp_text})),
        c.file("describe-key.json", &describe),
    ];
    for f in files {
        c.arg(&f);
    }
    if t.flip() {
        let g = grants(t);
        let f = c.file("list-grants.json", &g);
        c.arg(&f);
    }
    if t.pick(3) == 0 {
        let p = policy(t, false);
        let f = c.file("scp.json", &p);
        c.opt("--scp", &f);
    }
    match command {
        0 => {
            let p = format!("arn:aws:iam::{ACCOUNT}:role/r{}", t.pick(n));
            c.opt("--principal", &p);
        }
        1 => {
            let a = format!("{},{}", pick(t, REQUEST_ACTIONS), pick(t, REQUEST_ACTIONS));
            c.opt("--actions", &a);
        }
        2 | 3 => {}
        _ => {
            c.opt("--action", pick(t, REQUEST_ACTIONS));
            c.opt("--key", KEY);
        }
    }
    if !(2..=3).contains(&command) {
        if t.flip() {
            c.opt("--paths", if t.flip() { "all" } else { "direct" });
        }
        c.format = if t.flip() { "json" } else { "human" };
    } else {
        if t.flip() {
            c.opt("--key", KEY);
        }
        c.format = pick(t, &["dot", "mermaid", "json"]);
    }
    c.opt("--format", c.format);
    c
}

/// A `kmsaudit.toml` drawn from the options the configuration knows.
fn config(t: &mut dyn Tape) -> String {
    let mut s = String::new();
    if t.flip() {
        s.push_str("organisation = \"o-ourorg1234\"\n");
    }
    if t.flip() {
        s.push_str("min_deletion_window = 7\n");
    }
    if t.flip() {
        s.push_str("ignore = [\"KMS001\"]\n");
    }
    if t.flip() {
        s.push_str("[severity]\nKMS057 = \"warning\"\n");
    }
    for _ in 0..t.pick(3) {
        let rule = pick(t, &["KMS005", "KMS001", "KMS010", "*"]);
        let sid = name(t, &["Sid1", "Allow use"]);
        s.push_str(&format!(
            "[[suppress]]\nrule = \"{rule}\"\nkey = \"@DIR@/policy.json\"\nstatement = {}\nreason = \"r\"\nexpires = \"{}\"\n",
            toml_string(&sid),
            pick(t, &["2999-12-31", "2000-01-01"])
        ));
    }
    s
}

fn toml_string(v: &str) -> String {
    let mut out = String::from('"');
    for ch in v.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `check` in one of the report formats, with a configuration now and then.
pub fn report(t: &mut dyn Tape) -> Case {
    let mut c = Case::default();
    c.arg("check");
    let kind = t.pick(4);
    let p = policy(t, kind < 2);
    let f = c.file("policy.json", &p);
    if kind >= 2 {
        c.opt(
            "--policy-kind",
            pick(t, &["identity", "scp", "boundary", "vpce", "session"]),
        );
    }
    if t.flip() {
        let g = grants(t);
        let g = c.file("list-grants.json", &g);
        c.arg(&g);
    }
    c.arg(&f);
    if t.flip() {
        let text = config(t);
        c.files.push(("kmsaudit.toml".into(), text.into_bytes()));
        c.opt("--config", "@kmsaudit.toml");
    } else {
        c.arg("--no-config");
    }
    if t.pick(4) == 0 {
        c.opt("--fail-on", pick(t, &["error", "warning", "info", "never"]));
    }
    c.format = pick(t, &["human", "concise", "json", "sarif", "github", "junit"]);
    c.opt("--format", c.format);
    c
}
