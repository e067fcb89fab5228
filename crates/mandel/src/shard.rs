//! Shards: a job's rows split among independent tasks (a Slurm job array, a Kubernetes
//! Indexed Job), each rendered by [`Job::run_shard`] to a file of raw samples, then merged
//! into the job's output by a [`ShardSet`]. Every pixel is computed from its place in the
//! whole picture, so a shard holds exactly the samples a one-machine render computes for its
//! rows, and the merge colours and encodes them with the same code (`stream::write`): its npy
//! is byte for byte, its pictures pixel for pixel, those of the one-machine render.
//!
//! A shard file (version 1) is a text header, the samples, and a trailer:
//!
//! ```text
//! mandel-shard 1
//! made-by mandel 0.1.0
//! job width=400&height=400&max_iter=1000&...   the whole job (Job::shard_text)
//! rows 50..100                                 its pixel rows, row 0 the view's bottom edge
//! values counts <u4                            or `smooth <f8` (NaN: in the set)
//! shape 50 400                                 sample rows, samples per row
//!                                              (an empty line ends the header)
//! samples, little-endian, the lowest sample row first
//! trailer: iterations (u64), computed (u64), CRC-32 of every byte before it (u32), LE
//! ```
//!
//! Shards hold samples, not colours: colouring needs the whole picture (imshow's range, the
//! histogram), so it happens at the merge, which can write any format.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::error::{Error, Field, Result};
use crate::job::Job;
use crate::output::Format;
use crate::pipeline::{Summary, Tracker};
use crate::render::RowOrder;
use crate::stream::{self, RowSink, SampleRows, Samples};
use crate::style::{self, ColorMode, Work};

/// The first line of every shard file.
const MAGIC: &str = "mandel-shard";
/// The version of the layout this module writes and reads.
const VERSION: u32 = 1;
/// Most bytes a header may have: the job text of the deepest view (`MAX_BITS`: two
/// coordinates of some 60,000 digits each) fits many times over.
const MAX_HEADER: u64 = 1 << 20;
/// Bytes of the trailer: iterations, computed, CRC-32.
const TRAILER: u64 = 20;

/// One of `count` shards of a job, `index` counting from 0: the text form is `I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`; refused unless `index < count`.
    pub fn new(index: u32, count: u32) -> Result<Shard> {
        let value = format!("{index}/{count}");
        if count == 0 {
            return Err(Error::invalid(
                Field::Shard,
                value,
                "splits the job into no shards: N must be at least 1",
            ));
        }
        if index >= count {
            return Err(Error::invalid(
                Field::Shard,
                value,
                format!(
                    "is past the last shard: shards of {count} count from 0 to {}",
                    count - 1
                ),
            ));
        }
        Ok(Shard { index, count })
    }

    /// Which shard, from 0.
    pub fn index(self) -> u32 {
        self.index
    }

    /// How many shards the job is split into.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The pixel rows of this shard of a job `height` rows high: `floor(I·H/N)` to
    /// `floor((I+1)·H/N)`, empty where there are more shards than rows.
    pub fn rows(self, height: u32) -> Range<u32> {
        let at = |i: u32| (u64::from(i) * u64::from(height) / u64::from(self.count)) as u32;
        at(self.index)..at(self.index + 1)
    }
}

impl FromStr for Shard {
    type Err = Error;
    /// Reads `I/N`, as Slurm's `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT` spell it.
    fn from_str(s: &str) -> Result<Shard> {
        let t = s.trim();
        let (i, n) = t
            .split_once('/')
            .and_then(|(i, n)| {
                let whole = |x: &str| x.trim().parse::<u32>().ok();
                Some((whole(i)?, whole(n)?))
            })
            .ok_or_else(|| {
                Error::invalid(
                    Field::Shard,
                    t,
                    "is not I/N: shard I (from 0) of N, two whole numbers such as 3/8",
                )
            })?;
        Shard::new(i, n)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The kind of samples a shard holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Values {
    Counts,
    Smooth,
}

impl Values {
    /// What a job in `style` colours: smooth values for the smooth colouring, else counts.
    fn of(style: &style::Style) -> Values {
        if style.mode == ColorMode::Smooth {
            Values::Smooth
        } else {
            Values::Counts
        }
    }

    /// The header's words for them: a name and numpy's dtype.
    fn text(self) -> &'static str {
        match self {
            Values::Counts => "counts <u4",
            Values::Smooth => "smooth <f8",
        }
    }

    fn bytes(self) -> u64 {
        match self {
            Values::Counts => 4,
            Values::Smooth => 8,
        }
    }
}

/// What a shard's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    /// The whole job ([`Job::shard_text`]).
    job: String,
    rows: Range<u32>,
    values: Values,
    /// Sample rows and samples per row.
    shape: (u64, u64),
}

impl Header {
    /// The header of the shard of `job` (checked) that holds `rows`.
    fn of(job: &Job, rows: Range<u32>) -> Result<Header> {
        let k = u64::from(job.style.supersample);
        Ok(Header {
            job: job.shard_text()?,
            shape: (rows.len() as u64 * k, u64::from(job.width) * k),
            rows,
            values: Values::of(&job.style),
        })
    }

    /// Bytes of samples the header announces (None: more than any file holds).
    fn payload_bytes(&self) -> Option<u64> {
        self.shape
            .0
            .checked_mul(self.shape.1)?
            .checked_mul(self.values.bytes())
    }

    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "{MAGIC} {VERSION}")?;
        writeln!(out, "made-by mandel {}", env!("CARGO_PKG_VERSION"))?;
        writeln!(out, "job {}", self.job)?;
        writeln!(out, "rows {}..{}", self.rows.start, self.rows.end)?;
        writeln!(out, "values {}", self.values.text())?;
        writeln!(out, "shape {} {}", self.shape.0, self.shape.1)?;
        writeln!(out)
    }

    /// Reads a header from `input`, returning it and its length in bytes; the error is the
    /// reason the file is not a readable shard.
    fn read(input: &mut impl BufRead) -> std::result::Result<(Header, u64), String> {
        let mut read = 0u64;
        let mut lines = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = input
                .take(MAX_HEADER - read)
                .read_until(b'\n', &mut line)
                .map_err(|e| e.to_string())?;
            read += n as u64;
            let Some(line) = line.strip_suffix(b"\n") else {
                return Err(match lines.is_empty() {
                    true => "is not a mandel shard file".into(),
                    false => "is truncated inside its header".into(),
                });
            };
            let line = String::from_utf8(line.to_vec())
                .map_err(|_| "is not a mandel shard file".to_string())?;
            if lines.is_empty() {
                match line.strip_prefix(MAGIC).map(str::trim) {
                    Some(v) if v == VERSION.to_string() => {}
                    Some(v) => {
                        return Err(format!(
                            "is a shard of version {v}; this mandel reads version {VERSION}"
                        ));
                    }
                    None => return Err("is not a mandel shard file".into()),
                }
            } else if line.is_empty() {
                break;
            }
            lines.push(line);
        }
        let field = |key: &str| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
                .ok_or_else(|| format!("has a corrupt header: no {key} line"))
        };
        let corrupt = |key: &str| format!("has a corrupt header: its {key} line is unreadable");
        let rows = field("rows")?
            .split_once("..")
            .and_then(|(a, b)| Some(a.parse().ok()?..b.parse().ok()?))
            .filter(|r: &Range<u32>| r.start <= r.end)
            .ok_or_else(|| corrupt("rows"))?;
        let values = match field("values")? {
            v if v == Values::Counts.text() => Values::Counts,
            v if v == Values::Smooth.text() => Values::Smooth,
            _ => return Err(corrupt("values")),
        };
        let shape = field("shape")?
            .split_once(' ')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .ok_or_else(|| corrupt("shape"))?;
        let header = Header {
            job: field("job")?.to_string(),
            rows,
            values,
            shape,
        };
        Ok((header, read))
    }
}

/// A writer that keeps the CRC-32 of what passes through it.
struct Checksummed<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Job {
    /// Renders `shard` of this job (its share of the rows; the job's own [`Job::rows`] must
    /// be unset) and writes it to `out` as a shard file: the samples its colouring needs,
    /// which a [`ShardSet`] merges into any format. The job's format plays no part. Nothing
    /// is written before every value has been checked.
    pub fn run_shard(&self, shard: Shard, out: impl Write + Send) -> Result<Summary> {
        if let Some(rows) = &self.rows {
            return Err(Error::invalid(
                Field::Rows,
                format!("{}..{}", rows.start, rows.end),
                format!("cannot be given with shard {shard}, which chooses the rows"),
            ));
        }
        // Checked whole, as a picture: the merge may make any format of it.
        let whole = Job {
            format: Format::Png,
            ..self.clone()
        };
        let mut plan = whole.plan()?;
        let rows = shard.rows(self.height);
        let header = Header::of(&whole, rows.clone())?;
        let start = Instant::now();
        let mut out = Checksummed {
            inner: BufWriter::with_capacity(1 << 16, out),
            crc: crc32fast::Hasher::new(),
        };
        header.write(&mut out).map_err(Error::Write)?;
        let work = if rows.is_empty() {
            Work::default()
        } else {
            plan.params.rows = rows.clone();
            let k = self.style.supersample;
            let samples = plan.params.pixels() * u64::from(k * k);
            let tracker = Tracker::new(samples, self.progress.as_ref());
            let on_samples = |n: u64| tracker.pixels(n);
            let mut source = stream::Computed {
                params: style::sample_params(&plan.params, k)?,
                engine: &plan.engine,
                smooth: header.values == Values::Smooth,
                on_samples: &on_samples,
            };
            let mut bytes = Vec::new();
            source.each_row(RowOrder::BottomFirst, &mut |row| {
                bytes.clear();
                match row {
                    Samples::Counts(c) => bytes.extend(c.iter().flat_map(|n| n.to_le_bytes())),
                    Samples::Smooth(v) => bytes.extend(v.iter().flat_map(|x| x.to_le_bytes())),
                }
                out.write_all(&bytes).map_err(Error::Write)
            })?
        };
        let computed = work.iterations - work.skipped;
        out.write_all(&work.iterations.to_le_bytes())
            .and_then(|()| out.write_all(&computed.to_le_bytes()))
            .map_err(Error::Write)?;
        let crc = out.crc.clone().finalize();
        out.inner
            .write_all(&crc.to_le_bytes())
            .and_then(|()| out.inner.flush())
            .map_err(Error::Write)?;
        let took = start.elapsed();
        Ok(Summary {
            width: self.width,
            rows: rows.len() as u32,
            iterations: work.iterations,
            computed,
            compute_time: took,
            elapsed: took,
        })
    }
}

/// One shard file of a set, checked.
#[derive(Debug)]
struct Part {
    path: PathBuf,
    header: Header,
    /// Where its samples begin.
    data: u64,
}

/// The shard files of one job, checked to hold each of its rows exactly once, intact; they
/// merge into the job's output in any format ([`ShardSet::write`]).
#[derive(Debug)]
pub struct ShardSet {
    job: Job,
    /// The parts that hold rows, the lowest rows first.
    parts: Vec<Part>,
    /// Files given, empty shards included.
    files: usize,
    iterations: u64,
    computed: u64,
}

/// What a merge did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MergeSummary {
    /// Shard files merged.
    pub parts: usize,
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub rows: u32,
    /// The sum of the counts, as the shards' renders computed them.
    pub iterations: u64,
    /// The iterations the shards' renders computed (less what shortcuts skipped).
    pub computed: u64,
    /// Time from start to the last byte written.
    pub elapsed: Duration,
}

impl ShardSet {
    /// Opens the shard files at `paths`, in any order, and checks them: each whole and
    /// intact (its checksum is verified, which reads it), all of one job, together holding
    /// each of its rows once. The error names the first part (or the rows) at fault.
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<ShardSet> {
        let parts = paths
            .iter()
            .map(|p| read_part(p.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let Some(first) = parts.first() else {
            return Err(Error::invalid(
                Field::Part,
                "(none)",
                "is no part at all: give the shard files to merge",
            ));
        };
        let job = Job::from_canonical(&first.header.job).map_err(|e| {
            Error::invalid(
                Field::Part,
                first.path.display(),
                format!("has a corrupt header: its job is unreadable ({e})"),
            )
        })?;
        for part in &parts {
            check_same_job(first, part)?;
            check_fits(&job, part)?;
        }
        let files = parts.len();
        let (mut parts, empty): (Vec<Part>, Vec<Part>) =
            parts.into_iter().partition(|p| !p.header.rows.is_empty());
        parts.sort_by_key(|p| p.header.rows.start);
        check_coverage(&parts, job.height)?;
        // Every file is read through, the empty ones too: none is taken unchecked.
        let (mut iterations, mut computed) = (0u64, 0u64);
        for part in parts.iter().chain(&empty) {
            let (i, c) = verify_checksum(part)?;
            iterations += i;
            computed += c;
        }
        Ok(ShardSet {
            job,
            parts,
            files,
            iterations,
            computed,
        })
    }

    /// The job the shards are of, whole (its rows unset, its format a PNG).
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// The job as written in `format`, checked (a supersampled job cannot make counts; nor
    /// can smooth values).
    fn output_job(&self, format: Format) -> Result<Job> {
        let job = Job {
            format,
            ..self.job.clone()
        };
        job.check()?;
        if !format.uses_colormap() && Values::of(&job.style) == Values::Smooth {
            return Err(Error::invalid(
                Field::Format,
                format,
                "holds counts, and the shards hold smooth values (color smooth): render them \
                 in another colouring to merge them into counts",
            ));
        }
        Ok(job)
    }

    /// Checks that the shards can be written in `format`, as [`ShardSet::write`] does first.
    pub fn check(&self, format: Format) -> Result<()> {
        self.output_job(format).map(|_| ())
    }

    /// Writes the job's output in `format` to `out`, its rows streamed from the shards (two
    /// passes over them where the colours need every sample first): the bytes a one-machine
    /// [`Job::run`] writes, but for encoders that chunk differently (a PNG's pixels are the
    /// same).
    pub fn write(&self, format: Format, out: impl Write + Send) -> Result<MergeSummary> {
        let start = Instant::now();
        let job = self.output_job(format)?;
        let k = if format.uses_colormap() {
            job.style.supersample
        } else {
            1
        };
        let shape = stream::Shape {
            width: job.width,
            height: job.height,
            k,
            max_iter: job.max_iter,
        };
        let text = job.picture_text()?;
        let mut rows = PartRows { set: self };
        stream::write(&mut rows, shape, format, &job.style, Some(&text), out)?;
        Ok(MergeSummary {
            parts: self.files,
            width: job.width,
            rows: job.height,
            iterations: self.iterations,
            computed: self.computed,
            elapsed: start.elapsed(),
        })
    }
}

/// The error for a part at `path`.
fn bad_part(path: &Path, reason: impl Into<String>) -> Error {
    Error::invalid(Field::Part, path.display(), reason)
}

/// Reads and checks the header of the shard file at `path`, and its length.
fn read_part(path: &Path) -> Result<Part> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let (header, data) =
        Header::read(&mut BufReader::new(file)).map_err(|reason| bad_part(path, reason))?;
    let expected = header
        .payload_bytes()
        .and_then(|n| n.checked_add(data + TRAILER))
        .ok_or_else(|| bad_part(path, "has a corrupt header: its shape line is unreadable"))?;
    if len < expected {
        return Err(bad_part(
            path,
            format!("is truncated: it has {len} bytes of the {expected} its header announces"),
        ));
    }
    if len > expected {
        return Err(bad_part(
            path,
            format!(
                "is corrupt: it has {len} bytes, more than the {expected} its header announces"
            ),
        ));
    }
    Ok(Part {
        path: path.to_path_buf(),
        header,
        data,
    })
}

/// Refuses `part` unless it is of the same job as `first`, naming the first difference.
fn check_same_job(first: &Part, part: &Part) -> Result<()> {
    if part.header.job == first.header.job {
        return Ok(());
    }
    let pairs = |text: &str| {
        form_urlencoded::parse(text.as_bytes())
            .into_owned()
            .collect::<Vec<_>>()
    };
    let (ours, theirs) = (pairs(&first.header.job), pairs(&part.header.job));
    let difference = ours
        .iter()
        .zip(&theirs)
        .find(|(a, b)| a != b)
        .map(|((k, a), (k2, b))| match k == k2 {
            true => format!("{k}={b} here, {k}={a} there"),
            false => format!("{k2}={b} here, {k}={a} there"),
        })
        .unwrap_or_else(|| "its parameters differ".into());
    Err(bad_part(
        &part.path,
        format!(
            "is a shard of another job than {} ({difference})",
            first.path.display()
        ),
    ))
}

/// Refuses a part whose rows, values or shape its job could not have made.
fn check_fits(job: &Job, part: &Part) -> Result<()> {
    let h = &part.header;
    let fits = h.rows.end <= job.height
        && Header::of(job, h.rows.clone()).is_ok_and(|expected| expected == *h);
    match fits {
        true => Ok(()),
        false => Err(bad_part(
            &part.path,
            "has a corrupt header: its rows, values or shape do not match its job",
        )),
    }
}

/// Refuses parts (sorted by their first row) that overlap or leave rows of `0..height` out.
fn check_coverage(parts: &[Part], height: u32) -> Result<()> {
    let mut gaps = Vec::new();
    let mut next = 0;
    let mut last: Option<&Part> = None;
    for part in parts {
        let rows = &part.header.rows;
        if let Some(prev) = last
            && rows.start < prev.header.rows.end
        {
            let shared = rows.start..rows.end.min(prev.header.rows.end);
            return Err(bad_part(
                &part.path,
                format!(
                    "overlaps {}: both hold rows {}..{}",
                    prev.path.display(),
                    shared.start,
                    shared.end
                ),
            ));
        }
        if rows.start > next {
            gaps.push(next..rows.start);
        }
        next = rows.end;
        last = Some(part);
    }
    if next < height {
        gaps.push(next..height);
    }
    if gaps.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = gaps
        .iter()
        .take(5)
        .map(|g| format!("{}..{}", g.start, g.end))
        .collect();
    let more = match gaps.len() {
        n if n > 5 => format!(" and {} more stretches", n - 5),
        _ => String::new(),
    };
    Err(Error::invalid(
        Field::Rows,
        format!("{}{more}", listed.join(", ")),
        format!("are in none of the parts (of rows 0..{height}): a shard is missing"),
    ))
}

/// Reads `part` through, checks its CRC-32, and returns its trailer's iterations and
/// computed iterations.
fn verify_checksum(part: &Part) -> Result<(u64, u64)> {
    let io = |e| Error::io(&part.path, e);
    let mut file = BufReader::with_capacity(1 << 20, File::open(&part.path).map_err(io)?);
    let mut crc = crc32fast::Hasher::new();
    // (The sizes were checked against the file's length when it was opened.)
    let body = part.data + part.header.payload_bytes().unwrap_or(0) + 16;
    let mut left = body;
    while left > 0 {
        let chunk = file.fill_buf().map_err(io)?;
        if chunk.is_empty() {
            return Err(bad_part(
                &part.path,
                "is truncated: it ended while being read",
            ));
        }
        let n = chunk.len().min(left as usize);
        crc.update(&chunk[..n]);
        file.consume(n);
        left -= n as u64;
    }
    let mut trailer = [0u8; TRAILER as usize];
    file.seek(SeekFrom::Start(body - 16)).map_err(io)?;
    file.read_exact(&mut trailer).map_err(io)?;
    let word = |at: usize| u64::from_le_bytes(trailer[at..at + 8].try_into().unwrap());
    let stored = u32::from_le_bytes(trailer[16..].try_into().unwrap());
    if crc.finalize() != stored {
        return Err(bad_part(
            &part.path,
            "is corrupt: its checksum does not match its contents",
        ));
    }
    Ok((word(0), word(8)))
}

/// The sample rows of a [`ShardSet`], read from its files.
struct PartRows<'a> {
    set: &'a ShardSet,
}

impl SampleRows for PartRows<'_> {
    fn each_row(&mut self, order: RowOrder, sink: &mut RowSink<'_>) -> Result<Work> {
        let parts = &self.set.parts;
        let in_order: Box<dyn Iterator<Item = &Part>> = match order {
            RowOrder::BottomFirst => Box::new(parts.iter()),
            RowOrder::TopFirst => Box::new(parts.iter().rev()),
        };
        let (mut bytes, mut counts, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for part in in_order {
            let h = &part.header;
            let io = |e| Error::io(&part.path, e);
            let mut file = File::open(&part.path).map_err(io)?;
            // Rows are read in blocks of about READ_BLOCK bytes, each block's rows handed on
            // from the end `order` names.
            let row_bytes = h.shape.1 * h.values.bytes();
            let per_block = (READ_BLOCK / row_bytes).max(1);
            let blocks = h.shape.0.div_ceil(per_block);
            for b in 0..blocks {
                let b = match order {
                    RowOrder::BottomFirst => b,
                    RowOrder::TopFirst => blocks - 1 - b,
                };
                let rows = b * per_block..((b + 1) * per_block).min(h.shape.0);
                bytes.resize((rows.end - rows.start) as usize * row_bytes as usize, 0);
                file.seek(SeekFrom::Start(part.data + rows.start * row_bytes))
                    .and_then(|_| file.read_exact(&mut bytes))
                    .map_err(io)?;
                let block = bytes.chunks_exact(row_bytes as usize);
                let block: Box<dyn Iterator<Item = &[u8]>> = match order {
                    RowOrder::BottomFirst => Box::new(block),
                    RowOrder::TopFirst => Box::new(block.rev()),
                };
                for row in block {
                    sink(decode(row, h.values, &mut counts, &mut values))?;
                }
            }
        }
        // The iterations were computed by the shards' renders, none here.
        Ok(Work {
            iterations: self.set.iterations,
            skipped: self.set.iterations,
        })
    }
}

/// Bytes of samples read from a part at a time.
const READ_BLOCK: u64 = 1 << 20;

/// The samples of one row's little-endian bytes, decoded into `counts` or `values`.
fn decode<'v>(
    row: &[u8],
    kind: Values,
    counts: &'v mut Vec<u32>,
    values: &'v mut Vec<f64>,
) -> Samples<'v> {
    match kind {
        Values::Counts => {
            counts.clear();
            counts.extend(
                row.chunks_exact(4)
                    .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))),
            );
            Samples::Counts(counts)
        }
        Values::Smooth => {
            values.clear();
            values.extend(
                row.chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))),
            );
            Samples::Smooth(values)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::tests::{decoded_png, deep_job, job, styles};
    use crate::{Pool, Style};

    #[test]
    fn shards_split_the_rows_into_consecutive_ranges() {
        for height in [1, 2, 7, 61, 400, 1001, u32::MAX] {
            for count in [1, 2, 3, 8, 61, 1000, u32::MAX] {
                let mut next = 0;
                // Every shard of small counts; the first and last few of large ones.
                let indices: Vec<u32> = if count <= 1000 {
                    (0..count).collect()
                } else {
                    (0..3).chain(count - 3..count).collect()
                };
                for i in indices {
                    let rows = Shard::new(i, count).unwrap().rows(height);
                    let floor = (u64::from(i) * u64::from(height) / u64::from(count)) as u32;
                    assert_eq!(rows.start, floor, "{i}/{count} of {height}");
                    if i < 3 || i == count - 1 {
                        assert!(rows.start == next || count > 1000, "{i}/{count}");
                    }
                    next = rows.end;
                }
                assert_eq!(next, height, "the last of {count} ends at {height}");
            }
        }
    }

    #[test]
    fn a_shard_is_written_i_slash_n() {
        assert_eq!("3/8".parse::<Shard>().unwrap(), Shard::new(3, 8).unwrap());
        assert_eq!(" 0 / 1 ".parse::<Shard>().unwrap().to_string(), "0/1");
        for (text, message) in [
            (
                "8/8",
                "shard = 8/8 is past the last shard: shards of 8 count from 0 to 7",
            ),
            (
                "0/0",
                "shard = 0/0 splits the job into no shards: N must be at least 1",
            ),
            ("3", "shard = 3 is not I/N"),
            ("-1/4", "shard = -1/4 is not I/N"),
            ("a/b", "shard = a/b is not I/N"),
            ("1/2/3", "shard = 1/2/3 is not I/N"),
        ] {
            let err = text.parse::<Shard>().unwrap_err().to_string();
            assert!(err.starts_with(message), "{text}: {err}");
        }
    }

    /// Writes shards `0..n` of `job` into `dir`, returning their paths in a scrambled order.
    fn write_shards(job: &Job, n: u32, dir: &Path) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = (0..n)
            .map(|i| {
                let path = dir.join(format!("part{i}.shard"));
                let file = File::create(&path).unwrap();
                job.run_shard(Shard::new(i, n).unwrap(), file).unwrap();
                path
            })
            .collect();
        paths.reverse();
        paths.rotate_left(n as usize / 3);
        paths
    }

    fn merged(paths: &[PathBuf], format: Format) -> (Vec<u8>, MergeSummary) {
        let mut out = Vec::new();
        let summary = ShardSet::open(paths)
            .unwrap()
            .write(format, &mut out)
            .unwrap();
        (out, summary)
    }

    fn one_machine(job: &Job, format: Format) -> (Vec<u8>, Summary) {
        let mut out = Vec::new();
        let job = Job {
            format,
            ..job.clone()
        };
        let summary = job.run(&mut out).unwrap();
        (out, summary)
    }

    #[test]
    fn merged_shards_are_the_one_machine_render() {
        let dir = tempfile::tempdir().unwrap();
        let mut cases: Vec<(Job, u32, Vec<Format>)> = Vec::new();
        let counts = vec![
            Format::Npy,
            Format::Pgm,
            Format::Pbm,
            Format::Ppm,
            Format::Png,
        ];
        let pictures = vec![Format::Ppm, Format::Png, Format::Jpeg];
        cases.push((job(Format::Npy), 8, counts.clone()));
        // More shards than rows: some are empty.
        cases.push((job(Format::Npy), 100, counts));
        for style in styles() {
            cases.push((
                Job {
                    style,
                    ..job(Format::Png)
                },
                5,
                pictures.clone(),
            ));
        }
        cases.push((
            Job {
                style: Style {
                    mode: ColorMode::Smooth,
                    supersample: 2,
                    ..Style::default()
                },
                ..deep_job(Format::Png)
            },
            3,
            pictures,
        ));
        cases.push((deep_job(Format::Npy), 4, vec![Format::Npy, Format::Png]));
        // Parts of many blocks (READ_BLOCK), read from either end.
        let tall = Job {
            width: 2048,
            height: 1200,
            max_iter: 20,
            ..Job::default()
        };
        cases.push((tall, 2, vec![Format::Npy, Format::Png]));
        for (job, n, formats) in cases {
            for pool in [Pool::Sequential, Pool::all_cores()] {
                let job = Job {
                    pool,
                    ..job.clone()
                };
                let paths = write_shards(&job, n, dir.path());
                for &format in &formats {
                    let (whole, _) = one_machine(&job, format);
                    let (merge, b) = merged(&paths, format);
                    assert_eq!(
                        (b.width, b.rows, b.parts),
                        (job.width, job.height, n as usize)
                    );
                    if format == Format::Png {
                        assert_eq!(decoded_png(&whole), decoded_png(&merge), "{job:?}");
                    } else if format == Format::Jpeg {
                        let decode = |b: &[u8]| image::load_from_memory(b).unwrap().to_rgb8();
                        assert_eq!(decode(&whole), decode(&merge), "{job:?}");
                    } else {
                        assert!(whole == merge, "{format} of {job:?}");
                    }
                    // What a picture in the job's style computes: every sample, the smooth
                    // kernel's iterations where it colours.
                    let expected = one_machine(&job, Format::Png).1.iterations;
                    assert_eq!(b.iterations, expected, "{job:?}");
                }
            }
        }
    }

    /// The shards of `job(Npy)` in four parts, written to `dir`, in order.
    fn four_shards(dir: &Path) -> Vec<PathBuf> {
        let mut paths = write_shards(&job(Format::Npy), 4, dir);
        paths.sort();
        paths
    }

    fn refusal(paths: &[PathBuf]) -> String {
        ShardSet::open(paths).unwrap_err().to_string()
    }

    #[test]
    fn a_merge_refuses_parts_that_do_not_make_one_job() {
        let dir = tempfile::tempdir().unwrap();
        let paths = four_shards(dir.path());
        let name = |i: usize| paths[i].display().to_string();

        // A missing part, named by its rows (61 rows in 4: 0..15, 15..30, 30..45, 45..61).
        let err = refusal(&[paths[0].clone(), paths[1].clone(), paths[3].clone()]);
        assert!(
            err.starts_with("rows = 30..45 are in none of the parts"),
            "{err}"
        );
        let err = refusal(&paths[1..3]);
        assert!(err.starts_with("rows = 0..15, 45..61 are in none"), "{err}");

        // The same part twice, or parts of two splits that overlap.
        let err = refusal(&[paths.clone(), vec![paths[2].clone()]].concat());
        assert!(
            err.contains("overlaps") && err.contains("both hold rows 30..45"),
            "{err}"
        );
        let other_split = dir.path().join("half.shard");
        job(Format::Npy)
            .run_shard(
                Shard::new(0, 2).unwrap(),
                File::create(&other_split).unwrap(),
            )
            .unwrap();
        let err = refusal(&[other_split.clone(), paths[1].clone(), paths[3].clone()]);
        assert!(err.contains("both hold rows 15..30"), "{err}");

        // A part of another job, its first difference named.
        let other = dir.path().join("other.shard");
        Job {
            max_iter: 301,
            ..job(Format::Npy)
        }
        .run_shard(Shard::new(2, 4).unwrap(), File::create(&other).unwrap())
        .unwrap();
        let err = refusal(&[paths[0].clone(), paths[1].clone(), other, paths[3].clone()]);
        assert!(
            err.contains("is a shard of another job than")
                && err.contains("max_iter=301 here, max_iter=300 there"),
            "{err}"
        );

        // A truncated part, a corrupt one, and files that are no shards.
        let bytes = std::fs::read(&paths[2]).unwrap();
        let cut = dir.path().join("cut.shard");
        std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
        let err = refusal(std::slice::from_ref(&cut));
        assert!(err.contains("cut.shard is truncated: it has"), "{err}");
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 1;
        std::fs::write(&paths[2], &flipped).unwrap();
        let err = refusal(&paths);
        assert_eq!(
            err,
            format!(
                "part = {} is corrupt: its checksum does not match its contents",
                name(2)
            )
        );
        // An empty part (more shards than rows) is checked as well.
        let many = tempfile::tempdir().unwrap();
        let mut parts = write_shards(&job(Format::Npy), 100, many.path());
        parts.sort();
        let empty = parts
            .iter()
            .find(|p| read_part(p).unwrap().header.rows.is_empty())
            .unwrap()
            .clone();
        let mut bytes_of_empty = std::fs::read(&empty).unwrap();
        let at = bytes_of_empty.len() - 10;
        bytes_of_empty[at] ^= 1;
        std::fs::write(&empty, &bytes_of_empty).unwrap();
        assert!(refusal(&parts).ends_with("is corrupt: its checksum does not match its contents"));
        let huge = dir.path().join("huge.shard");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let header = text.split("\n\n").next().unwrap();
        let shape = header.lines().find(|l| l.starts_with("shape ")).unwrap();
        let header = header.replace(shape, "shape 18446744073709551615 2");
        std::fs::write(&huge, format!("{header}\n\n")).unwrap();
        assert!(refusal(std::slice::from_ref(&huge)).ends_with("its shape line is unreadable"));
        let png = dir.path().join("a.png");
        job(Format::Png).run(File::create(&png).unwrap()).unwrap();
        assert_eq!(
            refusal(std::slice::from_ref(&png)),
            format!("part = {} is not a mandel shard file", png.display())
        );
        std::fs::write(&png, b"mandel-shard 2\nrows 0..1\n\n").unwrap();
        assert!(refusal(&[png]).ends_with("is a shard of version 2; this mandel reads version 1"));
        let err = refusal(&[dir.path().join("absent.shard")]);
        assert!(
            err.ends_with("absent.shard: no such file or folder"),
            "{err}"
        );
    }

    #[test]
    fn shards_hold_what_their_colouring_needs() {
        let dir = tempfile::tempdir().unwrap();
        let smooth = Job {
            style: Style {
                mode: ColorMode::Smooth,
                ..Style::default()
            },
            ..job(Format::Png)
        };
        let paths = write_shards(&smooth, 2, dir.path());
        let header = read_part(&paths[0]).unwrap().header;
        assert_eq!(header.values, Values::Smooth);
        let set = ShardSet::open(&paths).unwrap();
        let err = set.check(Format::Npy).unwrap_err().to_string();
        assert!(
            err.starts_with("format = npy holds counts, and the shards hold smooth"),
            "{err}"
        );
        let supersampled = Job {
            style: Style {
                supersample: 3,
                ..Style::default()
            },
            ..job(Format::Png)
        };
        let paths = write_shards(&supersampled, 2, dir.path());
        let header = read_part(&paths[0]).unwrap().header;
        assert_eq!((header.values, header.shape.1), (Values::Counts, 97 * 3));
        let err = ShardSet::open(&paths)
            .unwrap()
            .check(Format::Pgm)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("supersample = 3 makes pictures"),
            "{err}"
        );
        // A job with rows of its own is not split again.
        let err = Job {
            rows: Some(1..5),
            ..job(Format::Npy)
        }
        .run_shard(Shard::new(0, 2).unwrap(), Vec::new())
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "rows = 1..5 cannot be given with shard 0/2, which chooses the rows"
        );
    }
}
