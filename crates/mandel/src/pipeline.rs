//! The one way a job runs: validate, choose between streaming rows and building the grid,
//! compute on the job's pool, colour, encode.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[cfg(test)]
use crate::error::Error;
use crate::error::Result;
use crate::grid::Grid;
use crate::job::{Job, Plan, ProgressFn, Streaming};
use crate::output::{self, Format};
use crate::render::{self, Pool};
use crate::stream;
use crate::style::{self, Work};
use crate::tuning::{MAX_STREAMED_ROW, STREAM_ABOVE_SAMPLES};

/// What a finished job did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Pixels per row.
    pub width: u32,
    /// Rows rendered.
    pub rows: u32,
    /// The sum of the counts computed (of every sample, for a supersampled picture): the
    /// iterations the seed's loop would have run.
    pub iterations: u64,
    /// The iterations actually computed: `iterations` less those that proven shortcuts
    /// (periodic orbits, trap discs) skipped.
    pub computed: u64,
    /// Time spent computing (including writing, for output streamed while it is computed).
    pub compute_time: Duration,
    /// Time from start to the last byte written.
    pub elapsed: Duration,
}

impl Summary {
    /// Iterations computed per second of compute time.
    pub fn computed_per_second(&self) -> f64 {
        self.computed as f64 / self.compute_time.as_secs_f64().max(1e-9)
    }
}

/// Counts finished pixels (or samples) for a [`ProgressFn`].
pub(crate) struct Tracker<'a> {
    done: AtomicU64,
    total: u64,
    progress: Option<&'a ProgressFn>,
}

impl<'a> Tracker<'a> {
    pub(crate) fn new(total: u64, progress: Option<&'a ProgressFn>) -> Self {
        Tracker {
            done: AtomicU64::new(0),
            total,
            progress,
        }
    }

    pub(crate) fn pixels(&self, n: u64) {
        if let Some(f) = self.progress {
            let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
            f(done, self.total);
        }
    }
}

impl Job {
    /// Renders the job and writes it to `out` in its format. A PBM is always streamed (bands
    /// written as they finish, the grid never held, so its size is bounded by the disk); PNG,
    /// PPM, PGM and npy are streamed row by row past `STREAM_ABOVE_SAMPLES` samples or as
    /// [`Job::streaming`] says, and otherwise encoded from the whole grid or picture, as a
    /// JPEG always is. Nothing is written before every value has been checked.
    pub fn run(&self, out: impl Write + Send) -> Result<Summary> {
        let plan = self.plan()?;
        if streams_rows(&plan, self.streaming) {
            return self.run_streamed(&plan, out);
        }
        let start = Instant::now();
        let tracker = self.tracker(&plan);
        let on_pixels = |n: u64| tracker.pixels(n);
        let params = &plan.params;
        let streams =
            plan.format == Format::Pbm && !matches!(plan.engine.pool, Pool::Processes { .. });
        let (work, compute_time) = if streams {
            let (iterations, skipped) = output::stream_pbm(params, &plan.engine, out, &on_pixels)?;
            (
                Work {
                    iterations,
                    skipped,
                },
                start.elapsed(),
            )
        } else if plan.format.uses_colormap() {
            let (rgb, work) = style::paint(params, &plan.engine, &plan.style, &on_pixels)?;
            let compute_time = start.elapsed();
            let text = self.picture_text()?;
            let (w, h) = (params.viewport.width(), params.rows.len() as u32);
            output::write_picture(&rgb, w, h, plan.format, Some(&text), out)?;
            (work, compute_time)
        } else {
            let (grid, skipped) = render::render(params, &plan.engine, &|b| on_pixels(b.pixels()))?;
            let compute_time = start.elapsed();
            output::write_counts(&grid, plan.format, params.max_iter, out)?;
            let iterations = grid.total_iterations();
            (
                Work {
                    iterations,
                    skipped,
                },
                compute_time,
            )
        };
        Ok(Summary {
            width: params.viewport.width(),
            rows: params.rows.len() as u32,
            iterations: work.iterations,
            computed: work.iterations - work.skipped,
            compute_time,
            elapsed: start.elapsed(),
        })
    }

    /// [`Job::run`] row by row: the values streamed from the kernels into the encoder, in
    /// two passes where the colours need every sample first (see `stream.rs`).
    pub(crate) fn run_streamed(&self, plan: &Plan, out: impl Write + Send) -> Result<Summary> {
        let start = Instant::now();
        let style = &plan.style;
        let passes = if stream::needs_tally(plan.format, style) {
            2
        } else {
            1
        };
        let k = if plan.format.uses_colormap() {
            style.supersample
        } else {
            1
        };
        let samples = plan.params.pixels() * u64::from(k * k);
        let tracker = Tracker::new(samples * passes, self.progress.as_ref());
        let on_samples = |n: u64| tracker.pixels(n);
        let mut source = stream::Computed {
            params: style::sample_params(&plan.params, k)?,
            engine: &plan.engine,
            smooth: plan.format.uses_colormap() && style.mode == style::ColorMode::Smooth,
            on_samples: &on_samples,
        };
        let shape = stream::Shape {
            width: plan.params.viewport.width(),
            height: plan.params.rows.len() as u32,
            k,
            max_iter: plan.params.max_iter,
        };
        let text = self.picture_text()?;
        let (iterations, computed) =
            stream::write(&mut source, shape, plan.format, style, Some(&text), out)?;
        let took = start.elapsed();
        Ok(Summary {
            width: shape.width,
            rows: shape.height,
            iterations,
            computed,
            compute_time: took,
            elapsed: took,
        })
    }

    /// The escape counts of the job's rows (its format and style play no part), with what it
    /// took.
    pub fn counts_with_summary(&self) -> Result<(Grid, Summary)> {
        let plan = self.plan()?;
        let start = Instant::now();
        let tracker = Tracker::new(plan.params.pixels(), self.progress.as_ref());
        let (grid, skipped) =
            render::render(&plan.params, &plan.engine, &|b| tracker.pixels(b.pixels()))?;
        let iterations = grid.total_iterations();
        let took = start.elapsed();
        let summary = Summary {
            width: grid.width(),
            rows: grid.height(),
            iterations,
            computed: iterations - skipped,
            compute_time: took,
            elapsed: took,
        };
        Ok((grid, summary))
    }

    /// The picture of the job's rows in its style, as RGB bytes, three per pixel, top row
    /// (the highest of the rows) first, as picture files store them: the pixels
    /// [`Job::run`] encodes, whatever the job's format.
    pub fn picture(&self) -> Result<(Vec<u8>, Summary)> {
        // Checked and tracked as a picture, whatever the job's own format.
        let plan = Job {
            format: Format::Png,
            ..self.clone()
        }
        .plan()?;
        let start = Instant::now();
        let tracker = self.tracker(&plan);
        let (rgb, work) = style::paint(&plan.params, &plan.engine, &plan.style, &|n| {
            tracker.pixels(n)
        })?;
        let took = start.elapsed();
        let summary = Summary {
            width: plan.params.viewport.width(),
            rows: plan.params.rows.len() as u32,
            iterations: work.iterations,
            computed: work.iterations - work.skipped,
            compute_time: took,
            elapsed: took,
        };
        Ok((rgb, summary))
    }

    /// The escape counts of the job's rows: the seed's counts, whatever the pool or kernel.
    pub fn counts(&self) -> Result<Grid> {
        Ok(self.counts_with_summary()?.0)
    }

    /// A tracker whose total is the pixels of every pass `plan` makes: one pass of pixels
    /// for counts and the plain counts picture, one of samples otherwise.
    fn tracker(&self, plan: &Plan) -> Tracker<'_> {
        let pixels = plan.params.pixels();
        let k = u64::from(plan.style.supersample);
        let total = if plan.format.uses_colormap() && !plan.style.is_plain_counts() {
            // (Saturating: a job too large to run is refused after this, not here.)
            pixels.saturating_mul(k * k)
        } else {
            pixels
        };
        Tracker::new(total, self.progress.as_ref())
    }
}

/// Whether [`Job::run`] streams `plan` row by row rather than holding its grid: for every
/// format that can be written so, on this process's threads, once the samples pass
/// [`STREAM_ABOVE_SAMPLES`] (or always, or never, as `streaming` says). (A PBM is always
/// streamed, by its own path; a JPEG never: its encoder takes the whole picture. Below the
/// threshold the grid is faster: colours that need every sample are then computed once. Rows
/// of more than [`MAX_STREAMED_ROW`] samples, which a stream holds whole, take the grid's path
/// and its memory check.)
fn streams_rows(plan: &Plan, streaming: Streaming) -> bool {
    let k = u64::from(plan.style.supersample);
    let row = u64::from(plan.params.viewport.width()).saturating_mul(k);
    let large = plan.params.pixels().saturating_mul(k * k) > STREAM_ABOVE_SAMPLES;
    !matches!(plan.format, Format::Jpeg | Format::Pbm)
        && !matches!(plan.engine.pool, Pool::Processes { .. })
        && row <= MAX_STREAMED_ROW
        && match streaming {
            Streaming::Auto => large,
            Streaming::Always => true,
            Streaming::Never => false,
        }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{ColorMode, Style, View};
    use mandel_kernel::{Bounds, Kernel, Shortcuts};
    use std::sync::Arc;

    pub(crate) fn job(format: Format) -> Job {
        Job {
            width: 97,
            height: 61,
            max_iter: 300,
            format,
            ..Job::default()
        }
    }

    #[test]
    fn a_row_range_renders_the_same_rows_as_the_whole_job() {
        let whole = job(Format::Npy).counts().unwrap();
        for pool in [Pool::Sequential, Pool::all_cores()] {
            let part = Job {
                rows: Some(17..45),
                pool: pool.clone(),
                ..job(Format::Npy)
            };
            let grid = part.counts().unwrap();
            assert_eq!(grid.height(), 28);
            assert_eq!(grid.counts(), &whole.counts()[17 * 97..45 * 97], "{pool:?}");
            // The streamed PBM of the rows is the grid's PBM of the same rows.
            let mut streamed = Vec::new();
            let pbm = Job {
                format: Format::Pbm,
                ..part.clone()
            };
            pbm.run(&mut streamed).unwrap();
            let mut expected = Vec::new();
            output::write_counts(&grid, Format::Pbm, 300, &mut expected).unwrap();
            assert_eq!(streamed, expected, "{pool:?}");
        }
    }

    #[test]
    fn the_summary_counts_what_was_skipped_and_what_was_computed() {
        let inside = Job {
            view: View::edges(Bounds {
                xmin: -0.3,
                xmax: 0.1,
                ymin: -0.2,
                ymax: 0.2,
            }),
            width: 64,
            height: 40,
            max_iter: 1_000_000,
            format: Format::Npy,
            ..Job::default()
        };
        let summary = inside.run(std::io::sink()).unwrap();
        assert_eq!(summary.iterations, 64 * 40 * 1_000_000);
        assert!(summary.computed * 100 < summary.iterations, "{summary:?}");
        let exact = Job {
            shortcuts: Shortcuts::Off,
            kernel: Kernel::Scalar,
            max_iter: 2000,
            ..inside
        };
        let summary = exact.run(std::io::sink()).unwrap();
        assert_eq!(summary.computed, summary.iterations);
    }

    #[test]
    fn progress_reaches_its_total_for_every_pass() {
        for (format, mode, supersample) in [
            (Format::Npy, ColorMode::Counts, 1),
            (Format::Pbm, ColorMode::Counts, 1),
            (Format::Png, ColorMode::Counts, 1),
            (Format::Png, ColorMode::Smooth, 1),
            (Format::Ppm, ColorMode::Histogram, 3),
        ] {
            let last = Arc::new(std::sync::Mutex::new((0, 0)));
            let seen = last.clone();
            let job = Job {
                style: Style {
                    mode,
                    supersample,
                    ..Style::default()
                },
                progress: Some(Arc::new(move |done, total| {
                    let mut l = seen.lock().unwrap();
                    l.0 = l.0.max(done);
                    l.1 = total;
                })),
                ..job(format)
            };
            job.run(std::io::sink()).unwrap();
            let (done, total) = *last.lock().unwrap();
            let samples = 97 * 61 * (supersample * supersample) as u64;
            assert_eq!((done, total), (samples, samples));
        }
    }

    /// The RGB bytes of a PPM that [`Job::run`] wrote, past its header.
    fn ppm_pixels(job: &Job) -> Vec<u8> {
        let mut ppm = Vec::new();
        Job {
            format: Format::Ppm,
            ..job.clone()
        }
        .run(&mut ppm)
        .unwrap();
        let body = ppm.len() - 3 * (job.width * job.row_range().len() as u32) as usize;
        ppm.split_off(body)
    }

    pub(crate) fn styles() -> Vec<Style> {
        let plain = Style::default();
        vec![
            plain,
            Style {
                mode: ColorMode::Histogram,
                colormap: crate::Colormap::Magma,
                ..plain
            },
            Style {
                cycle: Some(37.5),
                offset: 0.25,
                ..plain
            },
            Style {
                inside: Some([10, 20, 30]),
                ..plain
            },
            Style {
                mode: ColorMode::Smooth,
                ..plain
            },
            Style {
                supersample: 2,
                ..plain
            },
        ]
    }

    #[test]
    fn the_picture_is_the_one_every_picture_format_encodes() {
        for style in styles() {
            let job = Job {
                style,
                rows: Some(5..50),
                ..job(Format::Npy)
            };
            let (rgb, summary) = job.picture().unwrap();
            assert_eq!((summary.width, summary.rows), (97, 45));
            assert_eq!(rgb, ppm_pixels(&job), "{style:?}");
        }
    }

    #[test]
    fn counts_coloured_afterwards_match_the_picture() {
        let job = job(Format::Npy);
        let grid = job.counts().unwrap();
        for style in styles() {
            let colored = style.colorize_counts(grid.counts(), job.max_iter);
            if style.mode == ColorMode::Smooth || style.supersample > 1 {
                let err = colored.unwrap_err().to_string();
                let field = if style.supersample > 1 {
                    "supersample"
                } else {
                    "color"
                };
                assert!(err.starts_with(field), "{err}");
                continue;
            }
            // The picture is top row first; counts are row 0 (ymin) first.
            let flipped: Vec<u8> = colored
                .unwrap()
                .chunks(97)
                .rev()
                .flatten()
                .flatten()
                .copied()
                .collect();
            let (rgb, _) = Job {
                style,
                ..job.clone()
            }
            .picture()
            .unwrap();
            assert_eq!(flipped, rgb, "{style:?}");
        }
        let err = Style::default()
            .colorize_counts(grid.counts(), 299)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "max_iter = 299 is less than the largest count (300)");
    }

    /// `job` written by [`Job::run`] (from its grid, being small) and by
    /// [`Job::run_streamed`], with their summaries.
    fn held_and_streamed(job: &Job) -> ((Vec<u8>, Summary), (Vec<u8>, Summary)) {
        let plan = job.plan().unwrap();
        assert!(
            !streams_rows(&plan, job.streaming),
            "small jobs are held whole"
        );
        let (mut held, mut streamed) = (Vec::new(), Vec::new());
        let a = job.run(&mut held).unwrap();
        let b = job.run_streamed(&plan, &mut streamed).unwrap();
        ((held, a), (streamed, b))
    }

    /// A PNG's RGB pixels and its text chunks.
    pub(crate) fn decoded_png(png: &[u8]) -> (Vec<u8>, Vec<(String, String)>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut rgb).unwrap();
        let text = reader.info().uncompressed_latin1_text.iter();
        let text = text.map(|t| (t.keyword.clone(), t.text.clone())).collect();
        (rgb, text)
    }

    #[test]
    fn streamed_files_hold_the_pixels_of_files_written_whole() {
        let mut cases: Vec<(Format, Job)> = Vec::new();
        for style in styles() {
            cases.push((
                Format::Png,
                Job {
                    style,
                    rows: Some(3..58),
                    ..job(Format::Png)
                },
            ));
            cases.push((
                Format::Ppm,
                Job {
                    style,
                    ..job(Format::Ppm)
                },
            ));
        }
        for format in [Format::Npy, Format::Pgm] {
            cases.push((
                format,
                Job {
                    rows: Some(9..40),
                    ..job(format)
                },
            ));
        }
        // Rows wider than a task (stretches joined into rows), and a deep view, smooth and
        // supersampled.
        let wide = Job {
            width: (crate::tuning::WIDE_ROW + 1000) as u32,
            height: 3,
            max_iter: 50,
            ..Job::default()
        };
        cases.push((
            Format::Npy,
            Job {
                format: Format::Npy,
                ..wide.clone()
            },
        ));
        cases.push((Format::Png, wide));
        for style in [
            Style {
                mode: ColorMode::Smooth,
                supersample: 2,
                ..Style::default()
            },
            Style::default(),
        ] {
            cases.push((
                Format::Png,
                Job {
                    style,
                    ..deep_job(Format::Png)
                },
            ));
        }
        for (format, job) in cases {
            for pool in [Pool::Sequential, Pool::all_cores()] {
                let job = Job {
                    pool,
                    ..job.clone()
                };
                let ((held, a), (streamed, b)) = held_and_streamed(&job);
                assert_eq!(a.iterations, b.iterations, "{job:?}");
                if format == Format::Png {
                    assert_eq!(decoded_png(&held), decoded_png(&streamed), "{job:?}");
                } else {
                    assert_eq!(held, streamed, "{job:?}");
                }
            }
        }
    }

    #[test]
    fn a_stream_counts_the_iterations_of_each_of_its_passes() {
        // Imshow's scale needs a pass to find the smallest and largest count first; a cycle
        // needs none.
        let no_shortcuts = Job {
            shortcuts: Shortcuts::Off,
            ..job(Format::Png)
        };
        let ((held_png, held), (_, two)) = held_and_streamed(&no_shortcuts);
        assert_eq!(two.computed, 2 * held.computed);
        let cycle = Job {
            style: Style {
                cycle: Some(20.0),
                ..Style::default()
            },
            ..no_shortcuts.clone()
        };
        let ((_, held), (_, one)) = held_and_streamed(&cycle);
        assert_eq!(one.computed, held.computed);
        // Streaming always: even a small picture is streamed, in its two passes.
        let always = Job {
            streaming: Streaming::Always,
            ..no_shortcuts
        };
        let mut out = Vec::new();
        assert_eq!(always.run(&mut out).unwrap().computed, two.computed);
        assert_eq!(decoded_png(&out), decoded_png(&held_png));
    }

    /// The spiral about c = i at zoom 1e300: past doubles, boundary in every pixel.
    pub(crate) fn deep_job(format: Format) -> Job {
        let mut job = Job {
            width: 24,
            height: 16,
            max_iter: 3000,
            format,
            ..Job::default()
        };
        job.set("center", "0,1").unwrap();
        job.set("zoom", "1e300").unwrap();
        job
    }

    #[test]
    fn a_deep_job_takes_every_path_of_the_pipeline() {
        let job = deep_job(Format::Npy);
        assert_eq!(job.arithmetic().unwrap(), crate::Precision::Perturbation);
        let counts = job.counts().unwrap();
        // Counts grow with the logarithm of the zoom; one pixel is i itself, in the set.
        assert!(counts.counts().iter().all(|&n| n > 500));
        assert_eq!(counts.counts().iter().filter(|&&n| n == 3000).count(), 1);
        // Every pool gives the same counts; a process pool's workers are never started (the
        // program does not exist): deep renders run in this process.
        let never_started = Pool::Processes {
            jobs: std::num::NonZeroUsize::new(2).unwrap(),
            worker: crate::WorkerCommand {
                program: "/nonexistent/mandel".into(),
                args: Vec::new(),
            },
        };
        for pool in [Pool::Sequential, Pool::all_cores(), never_started] {
            let again = Job {
                pool,
                ..job.clone()
            };
            assert_eq!(again.counts().unwrap().counts(), counts.counts());
        }
        // The PBM is streamed band by band, the same as from the grid.
        let mut streamed = Vec::new();
        deep_job(Format::Pbm).run(&mut streamed).unwrap();
        let mut expected = Vec::new();
        output::write_counts(&counts, Format::Pbm, 3000, &mut expected).unwrap();
        assert_eq!(streamed, expected);
        // Pictures in every mode, supersampled too; smooth colour differs from the counts'.
        let picture = |mode, supersample| {
            Job {
                style: Style {
                    mode,
                    supersample,
                    ..Style::default()
                },
                ..deep_job(Format::Png)
            }
            .picture()
            .unwrap()
            .0
        };
        let plain = picture(ColorMode::Counts, 1);
        assert_eq!(plain.len(), 24 * 16 * 3);
        assert_ne!(picture(ColorMode::Smooth, 1), plain);
        assert_ne!(picture(ColorMode::Histogram, 2), plain);
        // Its canonical text keeps the digits and reads back to the same job.
        let text = job.canonical().unwrap();
        assert!(text.contains("center=0%2C1&zoom=1e300"), "{text}");
        let again = Job::from_canonical(&text).unwrap();
        assert_eq!(again.counts().unwrap().counts(), counts.counts());
    }

    #[test]
    fn nothing_is_written_for_a_bad_job() {
        let mut out = Vec::new();
        let bad = Job {
            max_iter: 0,
            ..job(Format::Png)
        };
        assert!(bad.run(&mut out).is_err());
        assert!(out.is_empty());
    }

    /// Jobs that would run for hours: a single huge row or column, each colouring, and
    /// supersampling (shortcuts off, so that no trap disc ends their orbits early).
    fn endless_jobs() -> Vec<(&'static str, Job)> {
        let inside = View::edges(Bounds {
            xmin: -0.1,
            xmax: 0.1,
            ymin: -0.01,
            ymax: 0.01,
        });
        let endless = |width, height, format, mode, supersample| Job {
            view: inside.clone(),
            width,
            height,
            max_iter: 1_000_000,
            format,
            style: Style {
                mode,
                supersample,
                ..Style::default()
            },
            shortcuts: Shortcuts::Off,
            ..Job::default()
        };
        vec![
            (
                "row",
                endless(1 << 24, 1, Format::Npy, ColorMode::Counts, 1),
            ),
            (
                "column",
                endless(1, 1 << 24, Format::Npy, ColorMode::Counts, 1),
            ),
            (
                "pbm row",
                endless(1 << 24, 1, Format::Pbm, ColorMode::Counts, 1),
            ),
            (
                "smooth row",
                endless(1 << 22, 1, Format::Png, ColorMode::Smooth, 1),
            ),
            (
                "histogram",
                endless(2048, 2048, Format::Png, ColorMode::Histogram, 1),
            ),
            (
                "supersampled",
                endless(1, 1 << 20, Format::Png, ColorMode::Smooth, 3),
            ),
        ]
    }

    #[test]
    fn every_shape_of_job_stops_soon_after_its_deadline() {
        for (what, job) in endless_jobs() {
            for pool in [Pool::Sequential, Pool::all_cores()] {
                let deadline = Instant::now() + Duration::from_millis(100);
                let job = Job {
                    deadline: Some(deadline),
                    pool: pool.clone(),
                    ..job.clone()
                };
                let err = job.run(std::io::sink()).unwrap_err();
                let late = Instant::now().saturating_duration_since(deadline);
                assert!(matches!(err, Error::DeadlineExceeded), "{what}: {err}");
                assert!(
                    late < Duration::from_millis(500),
                    "{what} {pool:?}: {late:?} late"
                );
            }
        }
    }

    #[test]
    fn a_cancelled_job_stops_soon() {
        for (what, job) in endless_jobs() {
            let cancel = crate::Cancel::new();
            let job = Job {
                cancel: Some(cancel.clone()),
                ..job
            };
            // Cancelled whenever the other thread has got to: before the kernels, or in them.
            let (err, late) = std::thread::scope(|s| {
                let running = s.spawn(|| job.run(std::io::sink()));
                let cancelled = Instant::now();
                cancel.cancel();
                let err = running.join().unwrap().unwrap_err();
                (err, cancelled.elapsed())
            });
            assert!(matches!(err, Error::Cancelled), "{what}: {err}");
            assert!(late < Duration::from_millis(500), "{what}: {late:?} late");
        }
    }

    #[test]
    fn sizes_past_any_machine_are_refused_before_any_work() {
        let huge = |width, height, format, supersample| Job {
            width,
            height,
            format,
            style: Style {
                supersample,
                mode: ColorMode::Smooth,
                ..Style::default()
            },
            ..Job::default()
        };
        for (job, what) in [
            (huge(u32::MAX, u32::MAX, Format::Npy, 1), "count grid"),
            (huge(u32::MAX, u32::MAX, Format::Pbm, 1), ""),
            (huge(1 << 31, 1 << 31, Format::Png, 2), "supersample"),
            (huge(u32::MAX, 1, Format::Png, 16), "supersample"),
            // (A PNG this size streams: its memory is a few rows.)
            (huge(1 << 20, 1 << 20, Format::Jpeg, 1), "bytes"),
        ] {
            let mut out = Vec::new();
            let err = match job.format {
                // A PBM streams: refused only when the writer fails, so give it one that does.
                Format::Pbm => job.run(FailingWriter).unwrap_err(),
                _ => job.run(&mut out).unwrap_err(),
            };
            assert!(
                err.to_string().contains(what),
                "{}x{}: {err}",
                job.width,
                job.height
            );
            assert!(out.is_empty());
        }
    }

    struct FailingWriter;

    impl Write for FailingWriter {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
