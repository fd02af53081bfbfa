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
pub(crate) enum Token {
    /// Literal text.
    Lit(compact_str::CompactString),
    /// `*`: any run of characters, including none.
    Star,
    /// `?`: exactly one character.
    One,
    /// `${key}` or `${key, 'default'}`.
    Var(Box<Variable>),
}

/// A policy variable reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Variable {
    /// The key as written (`aws:username`).
    pub(crate) key: String,
    /// The default after the comma, if any (`${aws:PrincipalTag/x, 'none'}`).
    pub(crate) default: Option<String>,
}

/// A tokenised pattern.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pattern {
    /// Tokens in order; adjacent literals are merged.
    /// Inline for the common one-token pattern (a literal, `*`): a dump holds hundreds of
    /// thousands of them, and a heap block each was much of its memory.
    pub(crate) tokens: smallvec::SmallVec<[Token; 1]>,
}

/// A problem met while tokenising (the text is then read literally from that point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableProblem {
    /// Byte offset of the `${` in the text.
    pub(crate) offset: usize,
    /// Byte length of the offending text.
    pub(crate) len: usize,
}

/// What a variable resolves to for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VarValue {
    /// A value; substituted text is literal (spec R38, Q16).
    Value(String),
    /// The key is absent and there is no default: the pattern matches nothing (R39).
    Absent,
    /// The value is not known offline.
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
            let used = match c {
                '*' if wildcards => {
                    p.push(Token::Star);
                    1
                }
                '?' if wildcards => {
                    p.push(Token::One);
                    1
                }
                _ => {
                    // A run of literal text up to the next wildcard or variable, pushed as
                    // one slice: patterns are parsed for every ARN of an account dump.
                    let first = c.len_utf8();
                    let tail = rest.get(first..).unwrap_or("");
                    let run = tail
                        .find(|d: char| {
                            (wildcards && (d == '*' || d == '?')) || (variables && d == '$')
                        })
                        .map_or(rest.len(), |i| first + i);
                    p.push_lit(rest.get(..run).unwrap_or(""));
                    run
                }
            };
            rest = rest.get(used..).unwrap_or("");
            offset += used;
        }
        p.tokens.shrink_to_fit();
        (p, problem)
    }

    fn push_lit(&mut self, text: &str) {
        if let Some(Token::Lit(last)) = self.tokens.last_mut() {
            last.push_str(text);
        } else {
            self.tokens.push(Token::Lit(text.into()));
        }
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

    /// True when the pattern holds a variable.
    pub(crate) fn has_variables(&self) -> bool {
        self.tokens.iter().any(|t| matches!(t, Token::Var(_)))
    }

    /// True for the pattern `*` alone.
    pub(crate) fn is_star(&self) -> bool {
        self.tokens.as_slice() == [Token::Star]
    }

    /// The literal text when the pattern has neither wildcards nor variables.
    pub(crate) fn as_literal(&self) -> Option<&str> {
        match self.tokens.as_slice() {
            [] => Some(""),
            [Token::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// The variables referenced.
    pub(crate) fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.tokens.iter().filter_map(|t| match t {
            Token::Var(v) => Some(&**v),
            _ => None,
        })
    }

    /// Matches `text` against a pattern without variables (variables count as no match).
    pub fn matches(&self, text: &str) -> bool {
        glob_match(&self.tokens, text)
    }
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
            Token::Var(Box::new(Variable {
                key: key.to_owned(),
                default,
            }))
        }
    };
    Some((tok, close + 1))
}

/// Glob match of tokens (literals, `*`, `?`) against `text`, case-sensitively. Variables in
/// `tokens` never match.
///
/// Iterative with one backtrack point (the last `*`), so it allocates nothing and runs in
/// O(pattern × text) at worst.
fn glob_match(tokens: &[Token], text: &str) -> bool {
    // Fast paths for the common shapes.
    match tokens {
        [] => return text.is_empty(),
        [Token::Star] => return true,
        [Token::Lit(l)] => return l == text,
        [Token::Lit(l), Token::Star] => return text.starts_with(l.as_str()),
        [Token::Star, Token::Lit(l)] => return text.ends_with(l.as_str()),
        _ => {}
    }
    // An atom is a position (token index, byte offset inside a literal).
    let next = |ti: usize, li: usize| -> (usize, usize) {
        match tokens.get(ti) {
            Some(Token::Lit(l)) => {
                let w = l
                    .get(li..)
                    .and_then(|r| r.chars().next())
                    .map_or(1, char::len_utf8);
                if li + w < l.len() {
                    (ti, li + w)
                } else {
                    (ti + 1, 0)
                }
            }
            _ => (ti + 1, 0),
        }
    };
    let bytes_at = |p: usize| text.get(p..).and_then(|r| r.chars().next());
    let (mut ti, mut li, mut p) = (0usize, 0usize, 0usize);
    let mut star: Option<(usize, usize, usize)> = None;
    loop {
        let matched = match tokens.get(ti) {
            None => {
                if p == text.len() {
                    return true;
                }
                false
            }
            Some(Token::Star) => {
                let (nti, nli) = next(ti, li);
                star = Some((nti, nli, p));
                ti = nti;
                li = nli;
                continue;
            }
            Some(Token::One) => match bytes_at(p) {
                Some(c) => {
                    p += c.len_utf8();
                    let (nti, nli) = next(ti, li);
                    ti = nti;
                    li = nli;
                    true
                }
                None => false,
            },
            Some(Token::Lit(l)) => {
                let want = l.get(li..).and_then(|r| r.chars().next());
                match (want, bytes_at(p)) {
                    (Some(a), Some(b)) if a == b => {
                        p += b.len_utf8();
                        let (nti, nli) = next(ti, li);
                        ti = nti;
                        li = nli;
                        true
                    }
                    _ => false,
                }
            }
            Some(Token::Var(_)) => return false,
        };
        if matched {
            continue;
        }
        // Backtrack: let the last `*` swallow one more character.
        let Some((sti, sli, sp)) = star else {
            return false;
        };
        let Some(c) = bytes_at(sp) else {
            return false;
        };
        let sp = sp + c.len_utf8();
        star = Some((sti, sli, sp));
        ti = sti;
        li = sli;
        p = sp;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slow, obviously correct matcher to compare against.
    fn naive(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| naive(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && naive(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && naive(rest, &t[1..]),
        }
    }

    #[test]
    fn glob_agrees_with_a_naive_matcher() {
        let alphabet = ['a', 'b', '*', '?', '\u{e9}'];
        let mut x: u64 = 12345;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let plen = (next() % 7) as usize;
            let tlen = (next() % 8) as usize;
            let pat: String = (0..plen).map(|_| alphabet[(next() % 5) as usize]).collect();
            let text: String = (0..tlen)
                .map(|_| alphabet[[0, 1, 4][(next() % 3) as usize]])
                .collect();
            let pc: Vec<char> = pat.chars().collect();
            let tc: Vec<char> = text.chars().collect();
            assert_eq!(m(&pat, &text), naive(&pc, &tc), "{pat:?} vs {text:?}");
        }
    }

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
        let (p, _) = Pattern::parse("a${*}b${?}${$}", true, true);
        assert_eq!(p.as_literal(), Some("a*b?$"));
        let (p, prob) = Pattern::parse("x${aws:username", true, true);
        assert!(prob.is_some());
        assert_eq!(p.as_literal(), Some("x${aws:username"));
        // Without variables (Version 2008) the text is literal.
        let (p, _) = Pattern::parse("${aws:username}", true, false);
        assert_eq!(p.as_literal(), Some("${aws:username}"));
    }

    #[test]
    fn literal_runs_become_one_token() {
        let (p, prob) = Pattern::parse("arn:$x\u{e9}*${aws:username}-?z$", true, true);
        assert!(prob.is_none());
        assert_eq!(
            p.tokens.to_vec(),
            vec![
                Token::Lit("arn:$x\u{e9}".into()),
                Token::Star,
                Token::Var(Box::new(Variable {
                    key: "aws:username".into(),
                    default: None,
                })),
                Token::Lit("-".into()),
                Token::One,
                Token::Lit("z$".into()),
            ]
        );
        // Without wildcards `*` and `?` join the literal run.
        let (p, _) = Pattern::parse("a*b?c", false, false);
        assert_eq!(p.tokens.to_vec(), vec![Token::Lit("a*b?c".into())]);
    }
}
