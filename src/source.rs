//! Source texts and locations: what every diagnostic points into.
//!
//! Owns [`Span`] (a byte range), [`SourceFile`] (a named text with a line index) and the
//! [`SourceMap`] that holds every file of a run. A policy embedded as a JSON string in another
//! file (a `get-key-policy` `Policy` string, a plan's `policy` attribute) becomes its own source
//! with an [`Origin`] pointing at the string literal in the outer file, so findings underline
//! readable text and can still be placed in the file the user committed. Parsing lives in `json`.

use std::sync::Arc;

/// A byte range `[start, end)` in one source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets (saturating at 4 GiB, above the input size cap).
    pub(crate) fn new(start: usize, end: usize) -> Self {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// An empty span at `at`.
    pub(crate) fn point(at: usize) -> Self {
        Span::new(at, at)
    }

    /// Length in bytes.
    pub(crate) fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        miette::SourceSpan::new((s.start as usize).into(), s.len())
    }
}

/// Where a source is in the [`SourceMap`]: a block (one per input file of `check`, so files can
/// be read on several threads without renumbering) and a place in it. Ids order as the
/// sources were added when blocks are numbered in input order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SourceId {
    block: u32,
    index: u32,
}

impl SourceId {
    /// An id that names no source (for documents made up by the tool itself).
    pub(crate) const NONE: SourceId = SourceId {
        block: u32::MAX,
        index: u32::MAX,
    };

    /// The id of the `index`th source of `block`.
    pub const fn new(block: u32, index: u32) -> Self {
        SourceId { block, index }
    }
}

/// Where an embedded source sits in its outer file.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The outer source.
    pub(crate) parent: SourceId,
    /// The JSON string literal (quotes included) that holds this source's text.
    pub(crate) literal: Span,
    /// A readable path to the literal (`aws_kms_key.main › policy`).
    pub(crate) path: String,
    /// The text is the literal's JSON-unescaped value, so offsets map exactly; false when
    /// another decoding (URL encoding) came between, and locations fall back to the literal.
    pub(crate) exact: bool,
    /// The literal's escapes, found when a location is first mapped through them.
    pub(crate) escapes: std::sync::OnceLock<Escapes>,
}

impl Origin {
    /// The escape index of the literal in `raw` (the literal's text in the parent), made on
    /// first use.
    fn escapes_of(&self, raw: &str) -> &Escapes {
        self.escapes.get_or_init(|| Escapes::of(raw))
    }
}

/// How many embedded sources deep a location is followed out to the file the user wrote
/// (a policy in a string in a string…); the loaders stop well before.
const MAX_NESTING: usize = 16;

/// A named text with a line index.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown to users (a path, `<stdin>`, or `outer › path` for embedded sources).
    pub(crate) name: String,
    /// The text.
    pub(crate) text: Arc<str>,
    /// Set for a source embedded in another file.
    pub(crate) origin: Option<Origin>,
    /// The text is sensitive (a Terraform sensitive value): findings in it never show it.
    pub(crate) sensitive: bool,
    /// Where each line starts, and whether every byte is ASCII: made when a location is
    /// first asked for. Most sources are never asked (a `can` batch reads a 20 MB account
    /// dump to answer requests, not to point into it; a file without findings is never
    /// located), and building it was 4% of such a batch.
    lines: std::sync::OnceLock<Lines>,
}

/// A source's line index.
#[derive(Debug, Clone)]
struct Lines {
    /// The offset of each line's first byte.
    starts: Box<[u32]>,
    /// Every byte is ASCII: a column is a byte count (`terraform show -json` writes a plan on
    /// one line, and counting characters from its start for each finding was quadratic).
    ascii: bool,
}

impl Lines {
    /// The line index of `text`.
    fn of(text: &str) -> Lines {
        // Eight bytes at a time (a large dump is tens of MB): `feeds` marks the line feeds of
        // a word exactly, in the high bit of each byte. Sized exactly: a large dump has
        // millions of lines.
        fn feeds(word: &[u8]) -> u64 {
            const HIGH: u64 = 0x8080_8080_8080_8080;
            const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
            let x = u64::from_le_bytes(word.try_into().unwrap_or([0; 8])) ^ 0x0a0a_0a0a_0a0a_0a0a;
            // A byte of `x` is zero (a line feed) when neither its low seven bits nor its high
            // bit are set.
            !(((x & LOW).wrapping_add(LOW)) | x) & HIGH
        }
        let bytes = text.as_bytes();
        let words = bytes.chunks_exact(8);
        let tail = words.remainder();
        let lines = words
            .clone()
            .map(|w| feeds(w).count_ones() as usize)
            .sum::<usize>()
            + tail.iter().filter(|&&b| b == b'\n').count();
        let mut starts = Vec::with_capacity(lines + 1);
        starts.push(0u32);
        let mut push = |i: usize| starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
        let mut at = 0usize;
        for word in words {
            let mut m = feeds(word);
            while m != 0 {
                push(at + (m.trailing_zeros() / 8) as usize);
                m &= m - 1;
            }
            at += 8;
        }
        for (j, &b) in tail.iter().enumerate() {
            if b == b'\n' {
                push(at + j);
            }
        }
        Lines {
            starts: starts.into_boxed_slice(),
            ascii: text.is_ascii(),
        }
    }
}

impl SourceFile {
    /// Builds a source (its line index is made when first needed).
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>, origin: Option<Origin>) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
            origin,
            sensitive: false,
            lines: std::sync::OnceLock::new(),
        }
    }

    /// The line index, made on first use.
    fn lines(&self) -> &Lines {
        self.lines.get_or_init(|| Lines::of(&self.text))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let lines = self.lines();
        let line = match lines.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = lines.starts.get(line).copied().unwrap_or(0) as usize;
        let off = (offset as usize).min(self.text.len());
        let col = if lines.ascii {
            off.saturating_sub(start)
        } else {
            self.text
                .get(start..off)
                .map(|s| s.chars().count())
                .unwrap_or(off.saturating_sub(start))
        };
        (line + 1, col + 1)
    }

    /// The text under a span (empty when out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// Every source of one run, addressed by [`SourceId`].
///
/// Sources are added to the current block, the last one. A map made with [`SourceMap::block`]
/// starts at a given block number, so a worker thread can read one input into its own map and
/// the run's map can [`absorb`](SourceMap::absorb) it later with every id unchanged.
#[derive(Debug, Default)]
pub struct SourceMap {
    /// The number of `blocks[0]`.
    base: u32,
    blocks: Vec<Vec<SourceFile>>,
}

impl SourceMap {
    /// An empty map whose sources go into block 0.
    pub fn new() -> Self {
        SourceMap::default()
    }

    /// An empty map whose sources go into block `number`.
    pub(crate) fn block(number: u32) -> Self {
        SourceMap {
            base: number,
            blocks: Vec::new(),
        }
    }

    /// Adds a source to the current block and returns its id.
    pub fn add(&mut self, file: SourceFile) -> SourceId {
        if self.blocks.is_empty() {
            self.blocks.push(Vec::new());
        }
        let block = self.base + u32::try_from(self.blocks.len() - 1).unwrap_or(u32::MAX);
        let files = match self.blocks.last_mut() {
            Some(files) => files,
            None => return SourceId::NONE,
        };
        let index = u32::try_from(files.len()).unwrap_or(u32::MAX);
        files.push(file);
        SourceId::new(block, index)
    }

    /// Moves the blocks of `other` (made with [`SourceMap::block`] for a block number past this
    /// map's last) into this map, where their ids resolve as before; later sources go into
    /// `other`'s last block. A block that is already here and holds sources keeps them and
    /// `other`'s are dropped: ids are never reassigned.
    pub(crate) fn absorb(&mut self, other: SourceMap) {
        for (i, files) in other.blocks.into_iter().enumerate() {
            let number = other.base as usize + i;
            let Some(at) = number.checked_sub(self.base as usize) else {
                continue;
            };
            if self.blocks.len() <= at {
                self.blocks.resize_with(at + 1, Vec::new);
            }
            if let Some(slot) = self.blocks.get_mut(at) {
                if slot.is_empty() {
                    *slot = files;
                }
            }
        }
    }

    /// How many sources the current block holds (the index the next one gets).
    pub(crate) fn len(&self) -> usize {
        self.blocks.last().map_or(0, Vec::len)
    }

    /// Marks the sources of the current block from index `from` on as sensitive.
    pub(crate) fn mark_sensitive_from(&mut self, from: usize) {
        if let Some(files) = self.blocks.last_mut() {
            for f in files.iter_mut().skip(from) {
                f.sensitive = true;
            }
        }
    }

    /// True when a finding in this source must not show its text.
    pub(crate) fn is_sensitive(&self, id: SourceId) -> bool {
        self.get(id).is_some_and(|f| f.sensitive)
    }

    /// The source for an id.
    pub fn get(&self, id: SourceId) -> Option<&SourceFile> {
        let at = id.block.checked_sub(self.base)? as usize;
        self.blocks.get(at)?.get(id.index as usize)
    }

    /// Makes what locating a finding in source `id` reads: the line index of the source and
    /// of each file it is embedded in, and the escape index of each literal on the way out.
    /// `check` calls it on the threads that find the findings, so that the thread that renders
    /// them (alone) only looks the indexes up; a source nothing is found in is never indexed.
    pub(crate) fn prepare_locations(&self, id: SourceId) {
        let mut id = id;
        for _ in 0..MAX_NESTING {
            let Some(file) = self.get(id) else { return };
            file.lines();
            let Some(origin) = &file.origin else { return };
            let Some(parent) = self.get(origin.parent) else {
                return;
            };
            if origin.exact {
                origin.escapes_of(parent.slice(origin.literal));
            }
            id = origin.parent;
        }
    }

    /// Resolves a span to the outermost file the user wrote: its name, line and column.
    ///
    /// For an embedded source the inner offset is mapped through the escapes of the JSON string
    /// literal that holds it, so the column points at the same character in the outer file.
    pub(crate) fn outer_location(&self, id: SourceId, offset: u32) -> Option<(SourceId, u32)> {
        let mut id = id;
        let mut offset = offset;
        for _ in 0..MAX_NESTING {
            let file = self.get(id)?;
            let Some(origin) = &file.origin else {
                return Some((id, offset));
            };
            let parent = self.get(origin.parent)?;
            let raw = parent.slice(origin.literal);
            offset = if origin.exact {
                let escapes = origin.escapes_of(raw);
                origin.literal.start + u32::try_from(escapes.map(raw, offset as usize)).unwrap_or(0)
            } else {
                origin.literal.start
            };
            id = origin.parent;
        }
        Some((id, offset))
    }
}

/// One step of decoding a JSON string literal (`raw`, quotes included) at byte `i`: how many
/// raw bytes it reads, how many decoded bytes it makes, and whether it is an escape. `None`
/// past the end.
#[inline]
fn decode_step(raw: &str, i: usize) -> Option<(usize, usize, bool)> {
    let bytes = raw.as_bytes();
    match bytes.get(i)? {
        b'\\' => {
            let esc = bytes.get(i + 1).copied().unwrap_or(b'"');
            if esc == b'u' {
                let hex = raw.get(i + 2..i + 6).unwrap_or("0");
                let cp = u32::from_str_radix(hex, 16).unwrap_or(0);
                if (0xD800..0xDC00).contains(&cp) {
                    // A surrogate pair: two escapes make one 4-byte character.
                    Some((12, 4, true))
                } else {
                    Some((6, char::from_u32(cp).map_or(3, char::len_utf8), true))
                }
            } else {
                Some((2, 1, true))
            }
        }
        _ => Some((1, 1, false)),
    }
}

/// Maps a byte offset in the decoded value of a JSON string literal (`raw`, quotes included)
/// to the byte offset in the literal that produced it, walking from the literal's start: the
/// reference [`Escapes::map`] is held to.
#[cfg(test)]
pub(crate) fn map_decoded_offset(raw: &str, decoded: usize) -> usize {
    walk_to(raw, (0, 1), decoded) // from the start, past the opening quote
}

/// The walk of a JSON string literal's decoding from the state `(decoded offset, raw offset)`
/// `from`, on while the decoded offset is below `decoded`: the raw offset it stops at.
fn walk_to(raw: &str, from: (usize, usize), decoded: usize) -> usize {
    let (mut out, mut i) = from;
    while i < raw.len() && out < decoded {
        let Some((di, dout, _)) = decode_step(raw, i) else {
            break;
        };
        i += di;
        out += dout;
    }
    i.min(raw.len())
}

/// Points along the decoding of a JSON string literal, so that offsets in its decoded value map
/// back to the literal from the nearest point before them instead of by a walk from its
/// start. A key policy embedded in `aws kms get-key-policy` output escapes every quote, and
/// each of its findings was mapped by a walk, on the thread that renders: 5% of a run over
/// such files. A point is kept every [`Escapes::EVERY`] bytes of the literal: the index is a
/// quarter of the literal's size at most however many escapes it holds (one entry per escape
/// was sixteen times the size of a literal of `\"`), and a map walks fewer than that many
/// bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Escapes {
    /// (decoded offset, raw offset) of states of the walk, in order, the first `(0, 1)`.
    points: Vec<(usize, usize)>,
}

impl Escapes {
    const EVERY: usize = 64;

    pub(crate) fn of(raw: &str) -> Escapes {
        let mut points = vec![(0, 1)];
        let (mut i, mut out) = (1usize, 0usize);
        let mut last = i;
        while let Some(&b) = raw.as_bytes().get(i) {
            // Most bytes decode to themselves: only a backslash needs the decoding step.
            let (di, dout) = match b {
                b'\\' => match decode_step(raw, i) {
                    Some((di, dout, _)) => (di, dout),
                    None => break,
                },
                _ => (1, 1),
            };
            i += di;
            out += dout;
            if i - last >= Self::EVERY && i < raw.len() {
                points.push((out, i));
                last = i;
            }
        }
        Escapes { points }
    }

    /// The byte offset in `raw` (the literal these points were made from) where decoded byte
    /// `decoded` comes from: the start of
    /// its escape, or for a byte inside an escape's output, the end of that escape. The walk
    /// from the literal's start passes through every point, and goes on from a point while
    /// its decoded offset is below `decoded`: it resumes from the last such point.
    pub(crate) fn map(&self, raw: &str, decoded: usize) -> usize {
        let before = self.points.partition_point(|p| p.0 < decoded);
        let from = before
            .checked_sub(1)
            .and_then(|k| self.points.get(k))
            .copied()
            .unwrap_or((0, 1));
        walk_to(raw, from, decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let f = SourceFile::new("x", "ab\n\u{e9}cd\n", None);
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(1), (1, 2));
        assert_eq!(f.line_col(3), (2, 1));
        // 'c' comes after a 2-byte character: column 2.
        assert_eq!(f.line_col(5), (2, 2));
    }

    #[test]
    fn decoded_offsets_map_through_escapes() {
        let raw = r#""{\"a\":\"b\"}""#;
        // decoded text: {"a":"b"}  ; offset of `a` is 2, in raw it is at 4
        assert_eq!(map_decoded_offset(raw, 2), 4);
        assert_eq!(map_decoded_offset(raw, 0), 1);
    }

    /// A literal of nothing but escaped quotes (200,000 bytes, as a hostile plan could hold)
    /// keeps a point per 64 bytes, not one per escape, and still maps each offset as the walk
    /// does, through the points far from the start.
    #[test]
    fn the_escape_index_of_a_literal_of_escapes_stays_small() {
        let raw = format!("\"{}\"", "\\\"".repeat(100_000));
        let escapes = Escapes::of(&raw);
        assert!(escapes.points.len() > 1000, "{}", escapes.points.len());
        assert!(escapes.points.len() <= raw.len() / Escapes::EVERY + 1);
        for d in [
            0, 1, 31, 32, 33, 64, 65, 12_345, 99_999, 100_000, 100_001, 300_000,
        ] {
            assert_eq!(escapes.map(&raw, d), map_decoded_offset(&raw, d), "at {d}");
        }
    }

    proptest::proptest! {
        /// Each character of a decoded string maps to where its encoding starts in the
        /// literal: the length of the encoded prefix before it.
        #[test]
        fn decoded_offsets_land_where_the_encoded_prefix_ends(text in "[a-z\"\\\\\n\t\u{1}é😀 ]{0,24}") {
            let raw = serde_json::to_string(&text).unwrap_or_default();
            for (d, _) in text.char_indices() {
                let prefix = serde_json::to_string(text.get(..d).unwrap_or("")).unwrap_or_default();
                proptest::prop_assert_eq!(map_decoded_offset(&raw, d), prefix.len() - 1, "{:?} at {}", text, d);
            }
        }

        /// The escape index maps every offset as the walk from the literal's start does, on
        /// literals JSON writes and on ones it never would (lone surrogates, a backslash at
        /// the end, short `\\u` escapes), and past the end.
        #[test]
        fn the_escape_index_maps_as_the_walk_does(
            text in "[a-z\"\\\\\n\t\u{1}é😀 ]{0,160}",
            raw_junk in "\"([a-z]|\\\\[nt\"\\\\u]|\\\\u[0-9a-fA-F]{0,4}|\\\\uD83D|é|😀){0,120}\"?",
        ) {
            for raw in [serde_json::to_string(&text).unwrap_or_default(), raw_junk] {
                let escapes = Escapes::of(&raw);
                for d in 0..=raw.len() + 3 {
                    proptest::prop_assert_eq!(escapes.map(&raw, d), map_decoded_offset(&raw, d), "{:?} at {}", raw, d);
                }
            }
        }
    }
}

#[cfg(test)]
mod block_tests {
    use super::{SourceFile, SourceId, SourceMap};

    #[test]
    fn blocks_read_apart_keep_their_ids_when_absorbed() {
        let mut run = SourceMap::new();
        let config = run.add(SourceFile::new("kmsaudit.toml", "", None));
        // Files 2 and 1 read on other threads, finished in that order, absorbed in order.
        let mut two = SourceMap::block(2);
        let b = two.add(SourceFile::new("b.json", "{}", None));
        let b_inner = two.add(SourceFile::new("b.json › policy", "{ }", None));
        let mut one = SourceMap::block(1);
        let a = one.add(SourceFile::new("a.json", "[]", None));
        run.absorb(one);
        run.absorb(two);
        assert_eq!(config, SourceId::new(0, 0));
        assert!(
            config < a && a < b && b < b_inner,
            "ids order as the inputs"
        );
        let name = |id| run.get(id).map(|f| f.name.clone());
        assert_eq!(name(a).as_deref(), Some("a.json"));
        assert_eq!(name(b).as_deref(), Some("b.json"));
        assert_eq!(name(b_inner).as_deref(), Some("b.json › policy"));
        assert_eq!(name(config).as_deref(), Some("kmsaudit.toml"));
        assert!(run.get(SourceId::NONE).is_none());
        assert!(run.get(SourceId::new(1, 1)).is_none());
    }
}

#[cfg(test)]
mod line_col_tests {
    use super::{Origin, SourceFile, SourceMap, Span};

    /// A source is indexed when a location in it is prepared or first asked for, and never
    /// otherwise; preparing a location inside an embedded policy indexes the policy, the file
    /// that holds it, and the escapes of the literal between them.
    #[test]
    fn line_indexes_are_made_for_what_is_located_only() {
        let outer_text = "{\n  \"Policy\": \"{\\n  \\\"Sid\\\": 1}\"\n}\n";
        let open = outer_text.find("\"{").unwrap_or(0);
        let close = outer_text.rfind('"').unwrap_or(0) + 1;
        let mut map = SourceMap::new();
        let outer = map.add(SourceFile::new("cli.json", outer_text, None));
        let inner = map.add(SourceFile::new(
            "cli.json › Policy",
            "{\n  \"Sid\": 1}",
            Some(Origin {
                parent: outer,
                literal: Span::new(open, close),
                path: "Policy".into(),
                exact: true,
                escapes: std::sync::OnceLock::new(),
            }),
        ));
        let other = map.add(SourceFile::new("other.json", "{}\n", None));
        let indexed = |id| map.get(id).is_some_and(|f| f.lines.get().is_some());
        assert!(!indexed(outer) && !indexed(inner) && !indexed(other));
        map.prepare_locations(inner);
        assert!(indexed(outer) && indexed(inner) && !indexed(other));
        let escapes_made = map
            .get(inner)
            .and_then(|f| f.origin.as_ref())
            .is_some_and(|o| o.escapes.get().is_some());
        assert!(escapes_made);
        // Asked for directly, a source indexes itself.
        assert_eq!(map.get(other).map(|f| f.line_col(2)), Some((1, 3)));
        assert!(indexed(other));
        // The embedded `"Sid"` (line 2 of the policy) is on line 2 of the file, inside the
        // literal.
        let sid = 4;
        let (at_outer, offset) = map.outer_location(inner, sid).unwrap_or((inner, 0));
        assert_eq!(at_outer, outer);
        assert_eq!(map.get(outer).map(|f| f.line_col(offset).0), Some(2));
    }

    #[test]
    fn line_starts_word_scan_finds_every_line_feed() {
        // Line feeds at every place of an eight-byte word, in runs, next to bytes whose low
        // seven bits are a line feed's (0x8a inside `Ŋ`), and in the tail past the last word.
        let text = "a\nb\n\n\ncdefgh\nŊ\n0123456\n01234567\n\nŊŊŊ\nxyz\n\n";
        let file = SourceFile::new("t.json", text, None);
        let expected: Vec<u32> = std::iter::once(0)
            .chain(
                text.match_indices('\n')
                    .map(|(i, _)| u32::try_from(i + 1).unwrap()),
            )
            .collect();
        assert_eq!(*file.lines().starts, *expected);
        for s in ["", "\n", "no feed at all", "1234567\n", "12345678\n"] {
            let f = SourceFile::new("t.json", s, None);
            assert_eq!(f.lines().starts.len(), 1 + s.matches('\n').count(), "{s:?}");
        }
    }

    #[test]
    fn columns_count_characters_on_ascii_and_non_ascii_lines() {
        let ascii = SourceFile::new("a", "{\"a\":\n  \"b\"}", None);
        assert_eq!(ascii.line_col(0), (1, 1));
        assert_eq!(ascii.line_col(8), (2, 3));
        // `é` is two bytes but one column.
        let text = "{\"Sid\": \"é\", \"x\": 1}";
        let accented = SourceFile::new("b", text, None);
        let at = text.find("\"x\"").unwrap_or(0) as u32;
        assert_eq!(accented.line_col(at), (1, 14));
    }
}
