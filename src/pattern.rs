//! IAM wildcard patterns and policy variables, tokenised once and matched without regexes.
//!
//! Owns the grammar of `*`, `?` and `${…}` (spec R17, R21, R37–R39) and a matcher over the
//! tokens. IAM gives no meaning to `{}`, `[]`, `**` or `\`, so patterns are never handed to a
//! glob or regex engine: tokenising first and matching tokens by hand makes it impossible for
//! another syntax to leak in, and costs no compilation at start-up (globset is used only to
//! select input files by path). Policy parsing lives in `policy`; variable values come from the
//! caller (`eval`).

/// One token of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Literal text.
    Lit(String),
    /// `*`: any run of characters, including none.
    Star,
    /// `?`: exactly one character.
    One,
    /// `${key}` or `${key, 'default'}`.
    Var(Variable),
}

/// A policy variable reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The key as written (`aws:username`).
    pub key: String,
    /// The default after the comma, if any (`${aws:PrincipalTag/x, 'none'}`).
    pub default: Option<String>,
}

/// A tokenised pattern.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pattern {
    /// Tokens in order; adjacent literals are merged.
    pub tokens: Vec<Token>,
}

/// A problem met while tokenising (the text is then read literally from that point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableProblem {
    /// Byte offset of the `${` in the text.
    pub offset: usize,
    /// Byte length of the offending text.
    pub len: usize,
}

/// What a variable resolves to for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    /// A value; substituted text is literal (spec R38, Q16).
    Value(String),
    /// The key is absent and there is no default: the pattern matches nothing (R39).
    Absent,
    /// The value is not known offline.
    Unknown,
}

/// Result of matching a pattern that may hold variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Matches.
    Yes,
    /// Does not match.
    No,
    /// A variable's value is unknown.
    Unknown,
}

impl Pattern {
    /// Tokenises `text`. With `variables`, `${…}` is a variable (`${*}`, `${?}`, `${$}` are the
    /// literal characters); without, `$`, `{` and `}` are literal. With `wildcards`, `*` and `?`
    /// are wildcards; without, every character is literal.
    pub fn parse(
        text: &str,
        wildcards: bool,
        variables: bool,
    ) -> (Pattern, Option<VariableProblem>) {
        let mut p = Pattern::default();
        let mut problem = None;
        let mut rest = text;
        let mut offset = 0;
        while let Some(c) = rest.chars().next() {
            if variables && rest.starts_with("${") {
                match parse_variable(rest) {
                    Some((tok, used)) => {
                        p.push(tok);
                        rest = rest.get(used..).unwrap_or("");
                        offset += used;
                        continue;
                    }
                    None => {
                        if problem.is_none() {
                            let len = rest.find('}').map_or(rest.len(), |i| i + 1);
                            problem = Some(VariableProblem { offset, len });
                        }
                    }
                }
            }
            let tok = match c {
                '*' if wildcards => Token::Star,
                '?' if wildcards => Token::One,
                _ => Token::Lit(c.to_string()),
            };
            p.push(tok);
            rest = rest.get(c.len_utf8()..).unwrap_or("");
            offset += c.len_utf8();
        }
        (p, problem)
    }

    fn push(&mut self, tok: Token) {
        if let (Token::Lit(s), Some(Token::Lit(last))) = (&tok, self.tokens.last_mut()) {
            last.push_str(s);
            return;
        }
        // `**` means the same as `*`.
        if tok == Token::Star && self.tokens.last() == Some(&Token::Star) {
            return;
        }
        self.tokens.push(tok);
    }

    /// A pattern of one literal.
    pub fn literal(text: &str) -> Pattern {
        let mut p = Pattern::default();
        if !text.is_empty() {
            p.tokens.push(Token::Lit(text.to_owned()));
        }
        p
    }

    /// True when the pattern holds a variable.
    pub fn has_variables(&self) -> bool {
        self.tokens.iter().any(|t| matches!(t, Token::Var(_)))
    }

    /// True when the pattern holds `*` or `?`.
    pub fn has_wildcards(&self) -> bool {
        self.tokens
            .iter()
            .any(|t| matches!(t, Token::Star | Token::One))
    }

    /// True for the pattern `*` alone.
    pub fn is_star(&self) -> bool {
        self.tokens == [Token::Star]
    }

    /// The literal text when the pattern has neither wildcards nor variables.
    pub fn as_literal(&self) -> Option<&str> {
        match self.tokens.as_slice() {
            [] => Some(""),
            [Token::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// The variables referenced.
    pub fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.tokens.iter().filter_map(|t| match t {
            Token::Var(v) => Some(v),
            _ => None,
        })
    }

    /// Matches `text` against a pattern without variables (variables count as no match).
    pub fn matches(&self, text: &str) -> bool {
        glob_match(&self.tokens, text)
    }

    /// Matches after substituting variables with `resolve`.
    pub fn matches_with(
        &self,
        text: &str,
        mut resolve: impl FnMut(&Variable) -> VarValue,
    ) -> Match {
        if !self.has_variables() {
            return bool_match(glob_match(&self.tokens, text));
        }
        let mut subst = Pattern::default();
        for t in &self.tokens {
            match t {
                Token::Var(v) => match resolve(v) {
                    VarValue::Value(s) => subst.push(Token::Lit(s)),
                    VarValue::Absent => return Match::No,
                    VarValue::Unknown => return Match::Unknown,
                },
                other => subst.push(other.clone()),
            }
        }
        bool_match(glob_match(&subst.tokens, text))
    }
}

fn bool_match(b: bool) -> Match {
    if b { Match::Yes } else { Match::No }
}

/// Parses `${…}` at the start of `s`; returns the token and the bytes used.
fn parse_variable(s: &str) -> Option<(Token, usize)> {
    let close = s.find('}')?;
    let inner = s.get(2..close)?;
    let tok = match inner {
        "*" => Token::Lit("*".into()),
        "?" => Token::Lit("?".into()),
        "$" => Token::Lit("$".into()),
        _ => {
            let (key, default) = match inner.split_once(',') {
                Some((k, d)) => {
                    let d = d.trim();
                    let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
                    (k.trim(), Some(d.to_owned()))
                }
                None => (inner.trim(), None),
            };
            let valid = !key.is_empty()
                && key.contains(':')
                && key.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, ':' | '/' | '_' | '-' | '.' | '@' | '+' | '=')
                });
            if !valid {
                return None;
            }
            Token::Var(Variable {
                key: key.to_owned(),
                default,
            })
        }
    };
    Some((tok, close + 1))
}

/// Glob match of tokens (literals, `*`, `?`) against `text`, case-sensitively. Variables in
/// `tokens` never match.
fn glob_match(tokens: &[Token], text: &str) -> bool {
    // Split at stars into segments; each segment is literals and `?`.
    let mut segments: Vec<&[Token]> = Vec::new();
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if *t == Token::Star {
            segments.push(tokens.get(start..i).unwrap_or(&[]));
            start = i + 1;
        }
    }
    segments.push(tokens.get(start..).unwrap_or(&[]));
    let Some((first, rest)) = segments.split_first() else {
        return text.is_empty();
    };
    let Some(after_first) = match_segment_at(first, text, 0) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return after_first == text.len();
    };
    // The last segment has a fixed character length: it must end the text.
    let last_chars = segment_chars(last);
    let Some(last_start) = nth_char_from_end(text, last_chars) else {
        return false;
    };
    if last_start < after_first {
        return false;
    }
    let mut pos = after_first;
    for seg in middle {
        let mut found = None;
        let mut at = pos;
        loop {
            if let Some(end) = match_segment_at(seg, text, at) {
                if end <= last_start {
                    found = Some(end);
                }
                break;
            }
            let Some(c) = text.get(at..).and_then(|s| s.chars().next()) else {
                break;
            };
            at += c.len_utf8();
            if at > last_start {
                break;
            }
        }
        match found {
            Some(end) => pos = end,
            None => return false,
        }
    }
    match_segment_at(last, text, last_start) == Some(text.len())
}

fn segment_chars(seg: &[Token]) -> usize {
    seg.iter()
        .map(|t| match t {
            Token::Lit(s) => s.chars().count(),
            Token::One => 1,
            Token::Star | Token::Var(_) => 0,
        })
        .sum()
}

fn nth_char_from_end(text: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(text.len());
    }
    text.char_indices().rev().nth(n - 1).map(|(i, _)| i)
}

/// Matches a star-free segment at byte `at`; returns the end offset.
fn match_segment_at(seg: &[Token], text: &str, at: usize) -> Option<usize> {
    let mut pos = at;
    for t in seg {
        match t {
            Token::Lit(s) => {
                if text.get(pos..)?.starts_with(s.as_str()) {
                    pos += s.len();
                } else {
                    return None;
                }
            }
            Token::One => {
                let c = text.get(pos..)?.chars().next()?;
                pos += c.len_utf8();
            }
            Token::Star | Token::Var(_) => return None,
        }
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Pattern::parse(p, true, false).0.matches(t)
    }

    #[test]
    fn iam_wildcards_r17() {
        assert!(m("decrypt*", "decrypt"));
        assert!(m("reencrypt?rom", "reencryptfrom"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("*key/mrk-*", "arn:aws:kms:x:key/mrk-1"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "a\u{e9}c"));
        assert!(m("*a*a", "aaa"));
        assert!(!m("ab", "abc"));
    }

    #[test]
    fn globset_syntax_is_literal() {
        assert!(m("a[bc]", "a[bc]"));
        assert!(!m("a[bc]", "ab"));
        assert!(m("{a,b}", "{a,b}"));
        assert!(!m("{a,b}", "a"));
        assert!(m("a\\*", "a\\xyz"));
        assert!(m("**", "anything/at/all"));
    }

    #[test]
    fn variables_r37_r38_r39() {
        let (p, prob) = Pattern::parse("key/${aws:PrincipalTag/k, 'none'}", true, true);
        assert!(prob.is_none());
        let v: Vec<_> = p.variables().collect();
        assert_eq!(v[0].key, "aws:PrincipalTag/k");
        assert_eq!(v[0].default.as_deref(), Some("none"));
        let r = p.matches_with("key/abc", |_| VarValue::Value("abc".into()));
        assert_eq!(r, Match::Yes);
        // Substituted text is literal: a `*` in the value is not a wildcard.
        let r = p.matches_with("key/abc", |_| VarValue::Value("*".into()));
        assert_eq!(r, Match::No);
        assert_eq!(p.matches_with("key/abc", |_| VarValue::Absent), Match::No);
        assert_eq!(
            p.matches_with("key/abc", |_| VarValue::Unknown),
            Match::Unknown
        );
        let (p, _) = Pattern::parse("a${*}b${?}${$}", true, true);
        assert_eq!(p.as_literal(), Some("a*b?$"));
        let (p, prob) = Pattern::parse("x${aws:username", true, true);
        assert!(prob.is_some());
        assert_eq!(p.as_literal(), Some("x${aws:username"));
        // Without variables (Version 2008) the text is literal.
        let (p, _) = Pattern::parse("${aws:username}", true, false);
        assert_eq!(p.as_literal(), Some("${aws:username}"));
    }
}
