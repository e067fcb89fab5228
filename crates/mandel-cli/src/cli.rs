//! The command line: every option of every subcommand, parsed and typed.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mandel::{Colormap, Format};

#[derive(Debug, Parser)]
#[command(
    name = "mandel",
    version,
    about = "Render the Mandelbrot set exactly, on every core",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a view of the set to a picture or to raw counts.
    Render(RenderArgs),
    /// Time one workload on each pool (sequential, threads, processes) and job count, side by
    /// side, optionally against the seed's own Python.
    Bench(BenchArgs),
    /// Merge the shard files of one job (`render --shard`), in any order, into its output.
    Merge(MergeArgs),
    /// Serve renders over HTTP: a worker process per connection, a log in SQLite, an HTML
    /// summary, JSON and Prometheus metrics.
    Serve(ServeArgs),
    /// A process-pool worker: reads tasks on stdin, answers on stdout (started by --pool
    /// processes, not by people).
    #[command(hide = true)]
    Worker,
    /// A `mandel serve` worker: serves the connection on stdin (started by the server).
    #[command(hide = true)]
    ServeConnection { board_fd: i32, config: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IsolationKind {
    /// A new worker process per connection.
    Process,
    /// A task per connection in the server process.
    Thread,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the address bound is logged).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Most workers alive at once; at the cap, new connections wait in the listen backlog.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_workers: u32,
    /// How connections are isolated from each other.
    #[arg(long, value_enum, default_value_t = IsolationKind::Process)]
    pub isolation: IsolationKind,
    /// The SQLite file that logs every render (created if missing).
    #[arg(long, default_value = "mandel.db", value_name = "PATH")]
    pub db: PathBuf,
    /// The SQLite file of rendered map tiles, shared by every worker [default: beside --db,
    /// NAME-tiles.db].
    #[arg(long, value_name = "PATH")]
    pub tile_cache: Option<PathBuf>,
    /// Most megabytes of tiles the cache keeps; the least recently used go first.
    #[arg(long, default_value_t = 256, value_name = "MB", value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    pub tile_cache_mb: u64,
    /// Most megabytes of reference orbits (and their BLA maps) each worker process keeps
    /// for deep renders and tiles that share a reference point (with process isolation, up
    /// to --max-workers times this in all); the least recently used go first.
    #[arg(long, default_value_t = 64, value_name = "MB", value_parser = clap::value_parser!(u64).range(0..=1 << 30))]
    pub orbit_cache_mb: u64,
    /// Most pixels one request may render (supersampled pixels included).
    #[arg(long, default_value_t = 16_777_216, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pixels: u64,
    /// Highest max_iter a request may ask for.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_iter_limit: u32,
    /// Seconds a render may take before it is abandoned with 503.
    #[arg(long, default_value = "30", value_parser = parse_seconds, value_name = "SECONDS")]
    pub render_timeout: std::time::Duration,
    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection is kept.
    #[arg(long, default_value = "10", value_parser = parse_seconds, value_name = "SECONDS")]
    pub header_timeout: std::time::Duration,
    /// Seconds a response's writes may make no progress (a client that stopped reading)
    /// before the connection is dropped and its render cancelled.
    #[arg(long, default_value = "10", value_parser = parse_seconds, value_name = "SECONDS")]
    pub write_timeout: std::time::Duration,
    /// How long renders stay in the log: a number with d, h, m or s (30d, 12h); older ones
    /// are deleted every minute. The totals on the summary page still count them.
    #[arg(long, default_value = "30d", value_parser = parse_age, value_name = "AGE")]
    pub log_retention: std::time::Duration,
    /// Requests served on one connection before it is closed, so that connections waiting in
    /// the backlog at the cap get a worker in turn (fewer: fairer; more: fewer reconnects).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_alive_requests: u32,
    /// On SIGTERM or SIGINT, seconds running requests get to finish before workers are killed.
    #[arg(long, default_value = "30", value_parser = parse_seconds, value_name = "SECONDS")]
    pub shutdown_timeout: std::time::Duration,
    /// Largest request body accepted, in bytes (the API reads none).
    #[arg(long, default_value_t = 16384)]
    pub max_body_bytes: usize,
    /// Connections the kernel may queue while accepting is paused.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub backlog: u32,
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let seconds = match unit {
        'd' => 86_400.0,
        'h' => 3_600.0,
        'm' => 60.0,
        's' => 1.0,
        _ => f64::NAN,
    };
    number
        .parse::<f64>()
        .ok()
        .map(|n| n * seconds)
        .filter(|x| x.is_finite() && *x > 0.0 && *x < 1e12)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| format!("'{s}' is not an age such as 30d, 12h, 15m or 90s"))
}

fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x > 0.0 && *x < 1e9)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| format!("'{s}' is not a number of seconds greater than 0"))
}

/// The grid being computed: size, iteration limit, and the view.
#[derive(Debug, Clone, Args)]
pub struct GridArgs {
    /// Pixels per row.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..))]
    pub width: u32,
    /// Number of rows.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..))]
    pub height: u32,
    /// Iteration limit: a pixel that reaches it is taken to be in the set.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_iter: u32,
    /// Left edge of the view (real axis) [default: -2.5].
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["center", "zoom"])]
    pub xmin: Option<String>,
    /// Right edge of the view [default: 1.0].
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["center", "zoom"])]
    pub xmax: Option<String>,
    /// Bottom edge of the view (imaginary axis) [default: -1.0].
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["center", "zoom"])]
    pub ymin: Option<String>,
    /// Top edge of the view [default: 1.0].
    #[arg(long, allow_hyphen_values = true, conflicts_with_all = ["center", "zoom"])]
    pub ymax: Option<String>,
    /// Centre of the view as RE,IM (instead of the edges), e.g. -0.75,0.1.
    #[arg(long, allow_hyphen_values = true, value_name = "RE,IM")]
    pub center: Option<String>,
    /// Magnification about --center: the view is 3.5/ZOOM wide, its height follows the
    /// picture's aspect ratio [default: 1]. Any positive decimal: 1e1086 works.
    #[arg(long, allow_hyphen_values = true)]
    pub zoom: Option<String>,
    /// Past double precision, perturb every pixel about the orbit of RE,IM rather than of
    /// the centre (within 64 view widths of it): renders that share it share the orbit.
    #[arg(long, allow_hyphen_values = true, value_name = "RE,IM")]
    pub reference: Option<String>,
    /// Arithmetic: auto (the seed's doubles where they stay faithful, perturbation beyond),
    /// double, perturbation, or direct (every pixel in arbitrary precision: slow, exact).
    #[arg(long, default_value = "auto", value_parser = parse_precision)]
    pub precision: mandel::Precision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolKind {
    /// One row after another, as the seed's `map`.
    Sequential,
    /// A pool of threads taking rows dynamically.
    Threads,
    /// A pool of worker processes fed rows over pipes, as the seed's multiprocessing.Pool.
    Processes,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// How rows are mapped onto workers.
    #[arg(long, value_enum, default_value_t = PoolKind::Threads)]
    pub pool: PoolKind,
    /// Number of workers [default: all cores].
    #[arg(short, long)]
    pub jobs: Option<NonZeroUsize>,
    /// Escape-time kernel: auto (the fastest this CPU has), scalar, portable, avx2, avx512,
    /// neon. Every kernel gives the same counts.
    #[arg(long, env = mandel::KERNEL_ENV, default_value = "auto", value_parser = parse_kernel)]
    pub kernel: mandel::Kernel,
    /// Do every iteration: no early stop for orbits proven never to escape (periodic, or caught
    /// near the main cardioid's fixed point or the period-2 bulb's cycle); same counts, slower.
    #[arg(long)]
    pub no_shortcuts: bool,
    /// Output file, or - for standard output (then --format is required).
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
    /// Output format [default: from the output's extension]:
    /// png, jpeg, ppm, pgm, pbm, npy.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Colormap: viridis, magma, inferno, plasma, turbo, twilight, greys, classic.
    #[arg(long, default_value = "viridis", value_parser = parse_colormap)]
    pub colormap: Colormap,
    /// Colouring: counts (the seed's imshow picture), smooth (continuous iteration count),
    /// histogram (equalised counts).
    #[arg(long, default_value = "counts", value_parser = parse_color_mode)]
    pub color: mandel::ColorMode,
    /// Repeat the colormap every N iterations (counts and smooth colouring).
    #[arg(long, value_name = "N")]
    pub cycle: Option<f64>,
    /// Shift along the colormap, as a fraction of it.
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "F"
    )]
    pub offset: f64,
    /// Colour of points in the set (#rrggbb or a CSS name) [default: the colormap's top for
    /// counts, black otherwise].
    #[arg(long, value_parser = parse_inside, value_name = "COLOR")]
    pub inside: Option<[u8; 3]>,
    /// K: anti-alias with K×K samples per pixel, averaged in linear light (pictures only).
    #[arg(long, default_value_t = 1, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=16))]
    pub supersample: u32,
    /// Re-render the picture whose parameters FILE (a PNG or JPEG made by mandel) carries,
    /// or render the location in a Kalles Fraktaler FILE.kfr (its Re, Im, Zoom and
    /// Iterations; --width, --height, --max-iter and the colour options still apply).
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "xmin", "xmax", "ymin", "ymax", "center", "zoom",
    ])]
    pub from: Option<PathBuf>,
    /// Give up after this many seconds (exit status 1, no output file left behind).
    #[arg(long, value_parser = parse_seconds, value_name = "SECONDS")]
    pub timeout: Option<std::time::Duration>,
    /// auto: stream pictures and npy row by row past 2^24 samples (memory stays bounded), hold
    /// the grid below (faster where colours need every sample, which a stream computes
    /// twice); always; never. The same pixels either way.
    #[arg(long, env = "MANDEL_STREAM", default_value = "auto", value_parser = parse_streaming)]
    pub stream: mandel::Streaming,
    /// Render only shard I of N (from 0): rows floor(I·H/N) to floor((I+1)·H/N) of the whole
    /// picture, written as raw samples to a FILE.shard for `mandel merge`. For job arrays:
    /// --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "I/N", value_parser = parse_shard, conflicts_with = "format")]
    pub shard: Option<mandel::Shard>,
    /// No progress bar and no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard files, in any order: together they must hold every row of one job, once.
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,
    /// Output file, or - for standard output (then --format is required).
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
    /// Output format [default: from the output's extension]:
    /// png, jpeg, ppm, pgm, pbm, npy.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// No summary.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub grid: GridArgs,
    /// Pools to time, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sequential,threads,processes"
    )]
    pub pools: Vec<PoolKind>,
    /// Job counts for the pools, comma-separated [default: 1 up to the number of cores].
    #[arg(short, long, value_delimiter = ',')]
    pub jobs: Vec<NonZeroUsize>,
    /// Kernels to time, comma-separated (auto, scalar, portable, avx2, avx512, neon).
    #[arg(long, value_delimiter = ',', default_value = "auto", value_parser = parse_kernel)]
    pub kernels: Vec<mandel::Kernel>,
    /// Do every iteration: no early stop for orbits proven never to escape, so that iterations
    /// per second and per cycle measure the kernel's raw speed.
    #[arg(long)]
    pub no_shortcuts: bool,
    /// Runs of each configuration; the table shows the minimum and the median.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// Also time the seed's Python (python/seed.py, run with python3), sequential and with
    /// multiprocessing.Pool, on the same grid, and check its counts against ours.
    #[arg(long)]
    pub python: bool,
    /// Runs of each Python configuration (it is slow).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub python_repeat: u32,
    /// Write the results as JSON.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Write the results as CSV.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// Draw speed-up against jobs for each pool, with the ideal line (SVG).
    #[arg(long, value_name = "PATH.svg")]
    pub plot: Option<PathBuf>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e: mandel::Error| e.to_string())
}

fn parse_streaming(s: &str) -> Result<mandel::Streaming, String> {
    s.parse().map_err(|e: mandel::Error| e.to_string())
}

fn parse_shard(s: &str) -> Result<mandel::Shard, String> {
    s.parse().map_err(|e: mandel::Error| e.to_string())
}

fn parse_kernel(s: &str) -> Result<mandel::Kernel, String> {
    mandel::Kernel::select(s).map_err(|e| e.to_string())
}

fn parse_color_mode(s: &str) -> Result<mandel::ColorMode, String> {
    s.parse().map_err(|e: mandel::Error| e.to_string())
}

fn parse_inside(s: &str) -> Result<[u8; 3], String> {
    mandel::parse_color(s).map_err(|e| e.to_string())
}

fn parse_precision(s: &str) -> Result<mandel::Precision, String> {
    s.parse().map_err(|e: mandel::Error| e.to_string())
}

fn parse_colormap(s: &str) -> Result<Colormap, String> {
    s.parse().map_err(|e: mandel::Error| e.to_string())
}

impl GridArgs {
    /// The job these options describe, every other setting at its default (the library
    /// checks the values when the job runs).
    pub fn job(&self) -> mandel::Result<mandel::Job> {
        use mandel::Field;
        let mut view = mandel::View::default();
        for (field, text) in [
            (Field::Xmin, &self.xmin),
            (Field::Xmax, &self.xmax),
            (Field::Ymin, &self.ymin),
            (Field::Ymax, &self.ymax),
            (Field::Center, &self.center),
            (Field::Zoom, &self.zoom),
            (Field::Reference, &self.reference),
        ] {
            if let Some(text) = text {
                view.set(field, text)?;
            }
        }
        Ok(mandel::Job {
            view,
            width: self.width,
            height: self.height,
            max_iter: self.max_iter,
            precision: self.precision,
            ..mandel::Job::default()
        })
    }
}

/// Which options the command line gave explicitly (rather than by their defaults).
pub struct Given(Vec<String>);

impl Given {
    /// The options given in `matches` (a subcommand's).
    pub fn of(matches: Option<&clap::ArgMatches>) -> Given {
        let Some(m) = matches else {
            return Given(Vec::new());
        };
        let explicit = m.ids().filter(|id| {
            matches!(
                m.value_source(id.as_str()),
                Some(
                    clap::parser::ValueSource::CommandLine | clap::parser::ValueSource::EnvVariable
                )
            )
        });
        Given(explicit.map(|id| id.as_str().to_string()).collect())
    }

    /// Whether `id` (a field's name: `max_iter`) was given.
    pub fn has(&self, id: &str) -> bool {
        self.0.iter().any(|g| g == id)
    }
}

/// How the command line spells a field of the library's: as its option (`--max-iter`), or by
/// name where no option sets it alone.
pub fn option_name(field: mandel::Field) -> String {
    use mandel::Field;
    match field {
        Field::View | Field::Rows | Field::Part => field.name().to_string(),
        _ => format!("--{}", field.name().replace('_', "-")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_numbers_in_every_form() {
        let cli = Cli::try_parse_from([
            "mandel",
            "render",
            "--xmin",
            "-2",
            "--xmax=-1",
            "--ymin",
            "-0.5",
            "-o",
            "x.png",
        ])
        .unwrap();
        let Command::Render(a) = cli.command else {
            panic!("render")
        };
        assert_eq!(
            (
                a.grid.xmin.clone(),
                a.grid.xmax.clone(),
                a.grid.ymin.clone()
            ),
            (Some("-2".into()), Some("-1".into()), Some("-0.5".into()))
        );
        let b = a.grid.job().unwrap().viewport().unwrap().bounds();
        assert_eq!((b.xmin, b.xmax, b.ymin), (-2.0, -1.0, -0.5));

        let cli =
            Cli::try_parse_from(["mandel", "render", "--center", "-0.75,-0.1", "-o", "x.png"])
                .unwrap();
        let Command::Render(a) = cli.command else {
            panic!("render")
        };
        assert_eq!(a.grid.center.as_deref(), Some("-0.75,-0.1"));
    }

    #[test]
    fn center_conflicts_with_edges() {
        let err = Cli::try_parse_from([
            "mandel", "render", "--center", "0,0", "--xmin", "-1", "-o", "x.png",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }
}
