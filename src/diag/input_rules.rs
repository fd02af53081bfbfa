//! Input-level rules: reported by `input` (and the commands' own readers) when a file cannot be
//! read as policy input, or when what it declares is reported where it is written.

use super::{Finding, Rule, Severity};
use crate::source::{SourceId, Span};

/// ## What it does
/// Reports a file that is not strict JSON: a syntax error, a comment, a trailing comma, single quotes, a bare key. It names the line and column.
///
/// ## Why is this bad?
/// AWS accepts only strict JSON; a lenient reader would check a policy AWS will reject, or guess at what a broken file means.
///
/// ## Example
/// ```json
/// {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",}]}
/// ```
/// Use instead:
/// ```json
/// {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:Decrypt", "Resource": "*"}]}
/// ```
///
/// ## References
/// - RFC 8259: "The JavaScript Object Notation (JSON) Data Interchange Format"
/// - IAM User Guide: "Grammar of the IAM JSON policy language"
pub(crate) static INVALID_JSON: Rule = Rule {
    code: "KMS031",
    name: "invalid-json",
    severity: Severity::Error,
    spec: "R10",
    summary: "the file is not strict JSON (syntax error, comment, trailing comma, single quotes…)",
    input_error: true,
};
/// ## What it does
/// Reports a file that is not valid UTF-8 (or UTF-16 with a byte-order mark), pointing at the first bad byte.
///
/// ## Why is this bad?
/// AWS policies are Unicode text; bytes that do not decode cannot be judged, so the file is not checked.
///
/// ## Example
/// (a policy saved as Windows-1252 with a curly quote in a `Sid`)
///
/// Use instead: (the same policy saved as UTF-8)
///
/// ## References
/// - AWS KMS API Reference: "PutKeyPolicy" (the policy's permitted characters)
pub(crate) static INVALID_ENCODING: Rule = Rule {
    code: "KMS032",
    name: "invalid-encoding",
    severity: Severity::Error,
    spec: "R12",
    summary: "the file is not valid UTF-8 (or UTF-16) text",
    input_error: true,
};
/// ## What it does
/// Reports a file larger than `--max-file-size` (16 MiB by default) or nested deeper than `--max-depth`.
///
/// ## Why is this bad?
/// Limits keep one hostile or accidental input from exhausting memory or the stack; a key policy is at most 32 KB.
///
/// ## Example
/// (a 2 GB log file passed by mistake)
///
/// Use instead: (the plan or policy itself, or a larger `--max-file-size`)
///
/// ## References
/// - AWS KMS Developer Guide: "Quotas" (key policy document size)
pub(crate) static INPUT_LIMIT: Rule = Rule {
    code: "KMS033",
    name: "input-limit",
    severity: Severity::Error,
    spec: "-",
    summary: "the input is over a limit: `--max-file-size`, `--max-depth`, `--max-statements` or `--max-policies`",
    input_error: true,
};
/// ## What it does
/// Notes that a file began with a UTF-8 byte-order mark or was UTF-16, and was decoded.
///
/// ## Why is this bad?
/// Nothing is wrong with the policy; some tools (and AWS APIs) reject a byte-order mark, so the note tells you before they do.
///
/// ## Example
/// (a policy saved by an editor that writes a byte-order mark)
///
/// Use instead: (the same policy saved as UTF-8 without a byte-order mark)
///
/// ## References
/// - The Unicode Standard: "Byte Order Mark"
pub(crate) static ENCODING_NOTE: Rule = Rule {
    code: "KMS034",
    name: "encoding-note",
    severity: Severity::Info,
    spec: "R12",
    summary: "the file starts with a UTF-8 byte-order mark or is UTF-16; it was decoded",
    input_error: false,
};
/// ## What it does
/// Reports a JSON file that is not an input kmsaudit reads: not a policy document, AWS CLI output, authorization details, Terraform plan or state, CloudFormation template or organisation tree. It says what the file looked like.
///
/// ## Why is this bad?
/// A file named on the command line that cannot be checked must not pass silently. (Found while walking a directory, it is skipped.)
///
/// ## Example
/// ```json
/// {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
/// ```
/// Use instead:
/// ```json
/// {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}
/// ```
///
/// ## References
/// - IAM User Guide: "IAM JSON policy element reference"
pub(crate) static NOT_A_POLICY: Rule = Rule {
    code: "KMS046",
    name: "unrecognised-input",
    severity: Severity::Error,
    spec: "R122",
    summary: "the JSON is not a policy document (e.g. a bare statement without `Statement`)",
    input_error: true,
};
/// ## What it does
/// Warns that AWS CLI output is one page of several (`NextMarker`, `Truncated`, `IsTruncated`, `NextToken`).
///
/// ## Why is this bad?
/// Grants, aliases or principals on the other pages are missing, so answers that depend on them may be wrong. Give every page (several files are joined) or call the CLI without `--max-items`.
///
/// ## Example
/// ```json
/// {"Grants": [], "Truncated": true, "NextMarker": "abc"}
/// ```
/// Use instead:
/// ```json
/// {"Grants": [], "Truncated": false}
/// ```
///
/// ## References
/// - AWS CLI User Guide: "Using the AWS CLI pagination options"
pub(crate) static INCOMPLETE: Rule = Rule {
    code: "KMS048",
    name: "incomplete-input",
    severity: Severity::Warning,
    spec: "R122",
    summary: "paginated AWS CLI output: data beyond this page is missing",
    input_error: false,
};
/// ## What it does
/// Reports a recognised input (CLI output, authorization details, a plan, a template) with a part missing or of the wrong shape: a grant without `Operations`, a role without `Arn`.
///
/// ## Why is this bad?
/// kmsaudit cannot build that part of the inventory; answers that need it would be guesses.
///
/// ## Example
/// ```json
/// {"Grants": [{"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "GranteePrincipal": "arn:aws:iam::111122223333:role/App"}]}
/// ```
/// Use instead:
/// ```json
/// {"Grants": [{"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "GranteePrincipal": "arn:aws:iam::111122223333:role/App", "Operations": ["Decrypt"]}]}
/// ```
///
/// ## References
/// - AWS KMS API Reference: "ListGrants"
/// - IAM API Reference: "GetAccountAuthorizationDetails"
pub(crate) static MALFORMED_INPUT: Rule = Rule {
    code: "KMS050",
    name: "malformed-input",
    severity: Severity::Error,
    spec: "R122-R135",
    summary: "a recognised input (CLI output, authorization details…) with a part missing or of the wrong shape",
    input_error: true,
};
/// ## What it does
/// Warns that a key policy in a Terraform plan is known only after apply (`after_unknown`), typically because it is built from resources not yet created.
///
/// ## Why is this bad?
/// The policy cannot be checked before apply, and every answer that depends on it is `undetermined`. Build the policy from values known at plan time, or check the state after apply.
///
/// ## Example
/// ```json
/// "policy": (known after apply) in `terraform plan`
/// ```
/// Use instead:
/// ```json
/// "policy": jsonencode({...}) built from known ARNs
/// ```
///
/// ## References
/// - Terraform documentation: "JSON Output Format" (after_unknown)
pub(crate) static UNKNOWN_VALUE: Rule = Rule {
    code: "KMS051",
    name: "unknown-until-apply",
    severity: Severity::Warning,
    spec: "R133",
    summary: "a policy in a Terraform plan that is known only after apply: it could not be checked",
    input_error: false,
};
/// ## What it does
/// Reports a file or directory that could not be read (missing, no permission, a broken link).
///
/// ## Why is this bad?
/// An input that cannot be read cannot be checked; the run exits 2 after reporting everything else.
///
/// ## Example
/// (`kmsaudit check polcy.json` with a typo in the name)
///
/// Use instead: (`kmsaudit check policy.json`)
///
/// ## References
/// - kmsaudit documentation: `docs/cli.md` (exit codes)
pub(crate) static UNREADABLE: Rule = Rule {
    code: "KMS047",
    name: "unreadable-file",
    severity: Severity::Error,
    spec: "-",
    summary: "the file or directory could not be read",
    input_error: true,
};

/// `KMS017` lockout-check-bypassed (spec L017, R113).
///
/// ## What it does
/// Flags keys declared with the lockout safety check turned off:
/// `bypass_policy_lockout_safety_check = true` on a Terraform `aws_kms_key` (or external,
/// replica or `aws_kms_key_policy` resource) and `BypassPolicyLockoutSafetyCheck: true` on a
/// CloudFormation `AWS::KMS::Key`. The key's policy still gets the lockout analysis (KMS003,
/// KMS004).
///
/// ## Why is this bad?
/// The safety check is what stops a policy that would lock everyone out of the key. Turned
/// off, one mistake makes the key unmanageable, and only AWS Support can recover it.
///
/// ## Example
/// ```json
/// {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"BypassPolicyLockoutSafetyCheck": true}}}}
/// ```
/// Use instead:
/// ```json
/// {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true}}}}
/// ```
///
/// ## References
/// - AWS KMS API Reference: "PutKeyPolicy" (BypassPolicyLockoutSafetyCheck)
/// - Terraform AWS provider: "aws_kms_key" (bypass_policy_lockout_safety_check)
/// - AWS CloudFormation User Guide: "AWS::KMS::Key" (BypassPolicyLockoutSafetyCheck)
pub(crate) static LOCKOUT_CHECK_BYPASSED: Rule = Rule {
    code: "KMS017",
    name: "lockout-check-bypassed",
    severity: Severity::Warning,
    spec: "L017, R113",
    summary: "the key is declared with the lockout safety check bypassed",
    input_error: false,
};

/// R113: a key policy update with the bypass flag true that declares no key of its own — a
/// `put-key-policy` request (AWS CLI input), or an `aws_kms_key_policy` whose key is not in
/// the plan — reported by the input layer where the flag is written.
pub(crate) fn bypass_in_request(source: SourceId, span: Span, key: Option<&str>) -> Finding {
    Finding::new(
        &LOCKOUT_CHECK_BYPASSED,
        source,
        span,
        format!(
            "this key policy update{} bypasses the lockout safety check: a policy that locks everyone out of the key will be accepted",
            key.map_or_else(String::new, |k| format!(" for `{k}`"))
        ),
        "safety check off",
    )
    .help("remove the bypass; if the policy is rejected without it, fix the policy so the calling principal keeps kms:PutKeyPolicy")
}
