//! `kmsaudit can --requests`: a batch of requests against the same inputs, read in chunks,
//! answered in parallel and written in order.

#[allow(clippy::wildcard_imports)]
use super::*;
use std::borrow::Cow;

/// One line of `--requests`; its strings borrow from the line unless JSON escapes in them
/// had to be decoded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest<'a> {
    #[serde(borrow)]
    principal: Cow<'a, str>,
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    key: Option<Cow<'a, str>>,
    #[serde(default)]
    context: std::collections::BTreeMap<String, OneOrMany>,
    #[serde(default)]
    encryption_context: std::collections::BTreeMap<String, String>,
    via_service: Option<String>,
    #[serde(borrow)]
    expect: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// One request of a batch, read and resolved, waiting for its answer.
struct Prepared<'a> {
    req: Request,
    id: Option<Cow<'a, str>>,
    expect: Option<Cow<'a, str>>,
    expect_arg: Option<ExpectArg>,
}

/// How many lines a batch reads before answering them.
const BATCH_CHUNK: usize = 8192;

/// What a run of batch lines produced: the rendered answers, how many missed their
/// expectation, and the lines that could not be read.
struct PartOut {
    bytes: Vec<u8>,
    failed: usize,
    errors: Vec<String>,
}

pub(super) fn batch(
    args: &CanArgs,
    path: &Path,
    sources: &mut SourceMap,
    stdout: &mut dyn Write,
) -> Result<u8, Failure> {
    let loaded = load_inputs(args, sources)?;
    let grant_request = match &args.grant_request {
        Some(p) => Some(load_grant_request(p, sources, &loaded.settings.base)?),
        None => None,
    };
    // Streamed line by line (a batch may be millions of requests), through the capped
    // reader's checks: a named pipe or a device is refused, and no line may grow past the
    // input size cap.
    let (file, _) = crate::input::capped::open_regular(path)
        .map_err(|e| fail(format!("cannot read `{}`: {e}", path.display())))?;
    let mut reader = io::BufReader::new(file);
    let mut failed = 0usize;
    let mut opts = loaded.opts.clone();
    opts.trace = false;
    let mut out = io::BufWriter::new(stdout);
    let mut errors = Vec::new();
    let mut closed = false;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(8);
    let job = Job {
        args,
        loaded: &loaded,
        grant_request: grant_request.as_ref(),
        opts: &opts,
        path,
    };
    let mut chunk: Vec<String> = Vec::with_capacity(BATCH_CHUNK);
    let mut first_line = 1usize;
    loop {
        // Lines are read in order, answered in parallel runs (each request is independent of
        // the others), and the runs' answers written in input order.
        chunk.clear();
        while chunk.len() < BATCH_CHUNK {
            let mut line = String::new();
            let n = crate::input::capped::read_line(
                &mut reader,
                crate::input::DEFAULT_MAX_FILE_SIZE,
                &mut line,
            )
            .map_err(|e| {
                fail(format!(
                    "cannot read `{}` after line {}: {e}",
                    path.display(),
                    first_line + chunk.len() - 1
                ))
            })?;
            if n == 0 {
                break;
            }
            chunk.push(line);
        }
        if chunk.is_empty() {
            break;
        }
        let parts = if chunk.len() >= 512 { threads } else { 1 };
        let per = chunk.len().div_ceil(parts).max(1);
        let results: Vec<io::Result<PartOut>> = if parts > 1 {
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .chunks(per)
                    .enumerate()
                    .map(|(i, lines)| {
                        let job = &job;
                        scope.spawn(move || job.run(lines, first_line + i * per))
                    })
                    .collect();
                handles
                    .into_iter()
                    // A worker that panicked is a bug: it fails the run as it would have
                    // without threads.
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        } else {
            vec![job.run(&chunk, first_line)]
        };
        for r in results {
            let part = r.map_err(|e| fail(format!("cannot write: {e}")))?;
            failed += part.failed;
            errors.extend(part.errors);
            if closed {
                continue;
            }
            match out.write_all(&part.bytes) {
                Ok(()) => {}
                // A reader that has gone (`… | head`): the rest of the answers is not wanted,
                // but the status still covers every request.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => closed = true,
                Err(e) => return Err(fail(format!("cannot write: {e}"))),
            }
        }
        first_line += chunk.len();
    }
    super::super::outcome::unless_reader_gone(out.flush())
        .map_err(|e| fail(format!("cannot write: {e}")))?;
    if !errors.is_empty() {
        let findings = Vec::new();
        return Err(Failure {
            message: format!(
                "{} request line(s) could not be read:\n{}",
                errors.len(),
                errors.join("\n")
            ),
            findings,
        });
    }
    // The process ends after the batch: freeing an organisation's inventory block by block
    // took a tenth of the run, for memory the exit gives back at once.
    std::mem::forget(loaded);
    Ok(u8::from(failed > 0))
}

/// What every line of a batch is answered against.
struct Job<'a> {
    args: &'a CanArgs,
    loaded: &'a Loaded,
    grant_request: Option<&'a Grant>,
    opts: &'a Options,
    path: &'a Path,
}

impl Job<'_> {
    /// Reads, answers and renders a run of lines in order; `first` is the first one's number.
    fn run(&self, lines: &[String], first: usize) -> io::Result<PartOut> {
        let mut out = PartOut {
            bytes: Vec::with_capacity(lines.len() * 160),
            failed: 0,
            errors: Vec::new(),
        };
        for (i, line) in lines.iter().enumerate() {
            let at = || format!("{}:{}", self.path.display(), first + i);
            let prepared = prepare(line, self.args, self.loaded, self.grant_request, &at);
            let mut p = match prepared {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(e) => {
                    out.errors.push(e);
                    continue;
                }
            };
            let (inputs, _) = inputs_for(self.loaded, &mut p.req);
            let ev = eval::evaluate(&inputs, &p.req, self.opts);
            let met = expect_met(p.expect_arg, ev.decision);
            if !met {
                out.failed += 1;
            }
            let (id, expect) = (p.id.as_deref(), p.expect.as_deref());
            let w = &mut out.bytes;
            match self.args.format {
                CanFormat::Json => render::render_batch_line(&ev, &p.req, id, expect, met, w)?,
                CanFormat::Human => render::render_batch_human(&ev, &p.req, id, expect, met, w)?,
            }
        }
        Ok(out)
    }
}

/// Reads one line of `--requests` into a request, adding its key to the inputs when it is
/// new. `Ok(None)` for a blank line; `Err` names the line (`at`) and what is wrong with it.
fn prepare<'a>(
    line: &'a str,
    args: &CanArgs,
    loaded: &Loaded,
    grant_request: Option<&Grant>,
    at: &dyn Fn() -> String,
) -> Result<Option<Prepared<'a>>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let r: BatchRequest =
        serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", at(), e.column()))?;
    let key = r.key.as_deref().or(args.key.as_deref()).ok_or_else(|| {
        format!(
            "{}: the request names no `key` (and `--key` is not given)",
            at()
        )
    })?;
    let key = resolve_key(key, loaded.inventory.as_ref())
        .map_err(|f| format!("{}: {}", at(), f.message))?;
    if loaded.key(&key).is_none() {
        let inventory_key = match &loaded.inventory {
            Some(inv)
                if loaded
                    .template
                    .as_ref()
                    .is_none_or(|t| t.policies.is_none()) =>
            {
                Some(inv.key_inputs(&key).map_err(|e| format!("{}: {e}", at()))?)
            }
            _ => None,
        };
        // With no `--key`, the given key policy and grants stand for every key requested.
        let found = match (inventory_key, &loaded.template) {
            (Some(ki), _) => Some(ki),
            (None, Some(t)) => Some(KeyInputs {
                facts: KeyFacts::from_arn(&key).map_err(|e| format!("{}: {e}", at()))?,
                policies: t.policies.clone(),
                grants: t.grants.clone(),
                policy_unknown: None,
            }),
            (None, None) => None,
        };
        if let Some(ki) = found {
            loaded
                .met()
                .entry(key.clone())
                .or_insert_with(|| Arc::new(ki));
        }
    }
    let mut context: Vec<(String, String)> = Vec::new();
    for (k, v) in r.context {
        match v {
            OneOrMany::One(s) => context.push((k, s)),
            OneOrMany::Many(list) => context.extend(list.into_iter().map(|s| (k.clone(), s))),
        }
    }
    let mut req = build_request(
        &r.principal,
        &r.action,
        &key,
        context,
        args,
        &loaded.settings,
        grant_request,
    )
    .map_err(|f| format!("{}: {}", at(), f.message))?;
    if let Some(d) = &req.destination_key {
        req.destination_key = Some(
            resolve_key(d, loaded.inventory.as_ref())
                .map_err(|f| format!("{}: {}", at(), f.message))?,
        );
    }
    if !r.encryption_context.is_empty() {
        req.encryption_context = Some(r.encryption_context.into_iter().collect());
    }
    if r.via_service.is_some() {
        req.via_service = r.via_service;
    }
    let expect_arg = match r.expect.as_deref() {
        Some(e) => Some(parse_expect(e).ok_or_else(|| {
            format!(
                "{}: `expect` must be allow, deny, explicit-deny, implicit-deny or undetermined",
                at()
            )
        })?),
        None => None,
    };
    Ok(Some(Prepared {
        req,
        id: r.id,
        expect: r.expect,
        expect_arg,
    }))
}
