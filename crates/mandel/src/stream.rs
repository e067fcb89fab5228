//! Output streamed in rows, so that its size is bounded by the disk, not by memory: PNG, PPM,
//! PGM, PBM and npy are written a row at a time from a [`SampleRows`] source (the rows
//! computed now, [`Computed`], or those of shard files read back, `shard.rs`), through the
//! same colouring and encoders.
//!
//! Colours that depend on every sample (imshow's scale from the smallest count to the
//! largest, the smooth values' range, histogram equalisation) take two passes over the
//! samples: the first only tallies them ([`Tally`]), the second colours and writes. Computing
//! twice costs time but no memory or disk; a cycle's colours, npy and PBM need one pass.
//! Every value is coloured by the same [`Palette`] code as a picture held whole, so the
//! pixels are the same (tested in `pipeline.rs`).

use std::io::{BufWriter, Write};

use crate::error::{Error, Result};
use crate::memory;
use crate::output::{self, Format, pack_pbm_row, png_encoder, png_error, write_ppm_header};
use crate::render::{self, Band, Engine, Params, RowOrder};
use crate::style::{ColorMode, Downsampler, Palette, Style, Tally, Work};

/// One whole row of samples: counts, or smooth values (NaN: taken to be in the set).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Samples<'a> {
    Counts(&'a [u32]),
    Smooth(&'a [f64]),
}

/// Where a sink of sample rows sends them.
pub(crate) type RowSink<'s> = dyn FnMut(Samples<'_>) -> Result<()> + Send + 's;

/// A source of sample rows: `width` samples a row, `rows` rows (`k`×`k` samples per pixel).
pub(crate) trait SampleRows {
    /// Hands every row to `sink` once, whole, from the end `order` names; returns the work
    /// it took.
    fn each_row(&mut self, order: RowOrder, sink: &mut RowSink<'_>) -> Result<Work>;
}

/// Sample rows computed now: the sample grid of a job's rows, counts or smooth values.
pub(crate) struct Computed<'a> {
    /// The sample grid (`style::sample_params`).
    pub params: Params,
    pub engine: &'a Engine,
    pub smooth: bool,
    /// Hears of every band of samples finished.
    pub on_samples: &'a (dyn Fn(u64) + Sync),
}

impl SampleRows for Computed<'_> {
    fn each_row(&mut self, order: RowOrder, sink: &mut RowSink<'_>) -> Result<Work> {
        let (params, engine) = (&self.params, self.engine);
        let width = params.viewport.width() as usize;
        let on_samples = self.on_samples;
        if !self.smooth {
            let mut joiner = RowJoiner::new(width, order);
            let (iterations, skipped) =
                render::render_in_order(params, engine, order, &mut |band| {
                    on_samples(band.pixels());
                    joiner.band(band, &mut |row| sink(Samples::Counts(row)))
                })?;
            return Ok(Work {
                iterations,
                skipped,
            });
        }
        let smooth = render::SmoothFill::new(params, engine)?;
        let fill = |first: u64, out: &mut [f64]| smooth.fill(first, out);
        let mut joiner = RowJoiner::new(width, order);
        let iterations = render::stream_in_order(params, engine, order, &fill, &mut |band| {
            on_samples(band.pixels());
            joiner.band(band, &mut |row| sink(Samples::Smooth(row)))
        })?;
        Ok(Work {
            iterations,
            skipped: smooth.skipped(),
        })
    }
}

/// Samples held whole, the lowest row first.
pub(crate) enum HeldSamples {
    Counts(Vec<u32>),
    Smooth(Vec<f64>),
}

/// Sample rows computed earlier and held in memory: a pass over them computes nothing.
pub(crate) struct Held {
    /// Samples per row.
    pub width: usize,
    pub samples: HeldSamples,
}

impl SampleRows for Held {
    fn each_row(&mut self, order: RowOrder, sink: &mut RowSink<'_>) -> Result<Work> {
        fn rows<'v, T>(
            values: &'v [T],
            width: usize,
            order: RowOrder,
        ) -> Box<dyn Iterator<Item = &'v [T]> + 'v> {
            let rows = values.chunks_exact(width);
            match order {
                RowOrder::BottomFirst => Box::new(rows),
                RowOrder::TopFirst => Box::new(rows.rev()),
            }
        }
        match &self.samples {
            HeldSamples::Counts(c) => {
                rows(c, self.width, order).try_for_each(|r| sink(Samples::Counts(r)))?
            }
            HeldSamples::Smooth(v) => {
                rows(v, self.width, order).try_for_each(|r| sink(Samples::Smooth(r)))?
            }
        }
        Ok(Work::default())
    }
}

/// Joins the bands of an in-order render into whole rows: bands of whole rows are split,
/// the stretches of a wide row gathered.
struct RowJoiner<T> {
    width: usize,
    order: RowOrder,
    partial: Vec<T>,
}

impl<T: Copy> RowJoiner<T> {
    fn new(width: usize, order: RowOrder) -> Self {
        RowJoiner {
            width,
            order,
            partial: Vec::new(),
        }
    }

    /// Hands the rows `band` completes to `row`, in the joiner's order.
    fn band(&mut self, band: Band<T>, row: &mut dyn FnMut(&[T]) -> Result<()>) -> Result<()> {
        let w = self.width;
        if self.partial.is_empty()
            && band.first.is_multiple_of(w as u64)
            && band.values.len().is_multiple_of(w)
        {
            // Rows inside a band ascend: reversed for a picture's order.
            let rows = band.values.chunks_exact(w);
            return match self.order {
                RowOrder::BottomFirst => rows.into_iter().try_for_each(row),
                RowOrder::TopFirst => rows.rev().try_for_each(row),
            };
        }
        self.partial.extend_from_slice(band.values);
        if self.partial.len() == w {
            row(&self.partial)?;
            self.partial.clear();
        }
        Ok(())
    }
}

/// Whether colouring `style` needs a first pass over every sample.
pub(crate) fn needs_tally(format: Format, style: &Style) -> bool {
    match format {
        Format::Pgm => true,
        Format::Npy | Format::Pbm => false,
        Format::Png | Format::Jpeg | Format::Ppm => {
            style.mode == ColorMode::Histogram || style.cycle.is_none()
        }
    }
}

/// What a picture streamed from sample rows is: its pixel grid, samples per pixel side, and
/// the count limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub width: u32,
    pub height: u32,
    pub k: u32,
    pub max_iter: u32,
}

/// Writes `source`'s rows to `out` in `format`, with `text` (the job's parameters) where the
/// format keeps it: two passes where the colours need a [`Tally`] first. Returns the sum of
/// the counts (of one pass) and the iterations computed (in every pass). Every format streams
/// but JPEG, whose encoder takes the picture whole.
pub(crate) fn write(
    source: &mut dyn SampleRows,
    shape: Shape,
    format: Format,
    style: &Style,
    text: Option<&str>,
    out: impl Write + Send,
) -> Result<(u64, u64)> {
    if format == Format::Jpeg {
        let (rgb, passes) = picture(source, shape, style)?;
        output::write_picture(&rgb, shape.width, shape.height, format, text, out)?;
        return Ok((passes.iterations, passes.computed));
    }
    let mut passes = Passes::default();
    let tally = tally(source, shape, format, style, &mut passes)?;
    let mut add = |w: Work| passes.add(w);
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let (w, h) = (shape.width, shape.height);
    match format {
        Format::Npy => {
            // npyz writes the header; the rows follow as its `<u4` items, little-endian.
            use npyz::WriterBuilder;
            npyz::WriteOptions::<u32>::new()
                .default_dtype()
                .shape(&[u64::from(h), u64::from(w)])
                .writer(&mut out)
                .write_header_only()
                .map_err(Error::Write)?;
            let mut bytes = Vec::with_capacity(w as usize * 4);
            add(
                source.each_row(RowOrder::BottomFirst, &mut |row| match row {
                    Samples::Counts(c) => {
                        bytes.clear();
                        bytes.extend(c.iter().flat_map(|n| n.to_le_bytes()));
                        out.write_all(&bytes).map_err(Error::Write)
                    }
                    Samples::Smooth(_) => Err(not_counts(format)),
                })?,
            );
        }
        Format::Pgm => {
            write!(out, "P5\n{w} {h}\n255\n").map_err(Error::Write)?;
            let scale = tally.count_scale();
            let mut grey = Vec::with_capacity(w as usize);
            add(source.each_row(RowOrder::TopFirst, &mut |row| match row {
                Samples::Counts(c) => {
                    grey.clear();
                    grey.extend(c.iter().map(|&n| scale.level(n)));
                    out.write_all(&grey).map_err(Error::Write)
                }
                Samples::Smooth(_) => Err(not_counts(format)),
            })?);
        }
        Format::Png | Format::Ppm => {
            let palette = Palette::new(style, shape.max_iter, tally)?;
            let mut painter = Painter::new(&palette, w as usize, shape.k as usize);
            if format == Format::Png {
                let mut writer = png_encoder(&mut out, w, h, text)?
                    .write_header()
                    .map_err(png_error)?;
                let mut rows = writer.stream_writer().map_err(png_error)?;
                add(source.each_row(RowOrder::TopFirst, &mut |row| {
                    painter.push(row, &mut |rgb| rows.write_all(rgb).map_err(Error::Write))
                })?);
                rows.finish().map_err(png_error)?;
            } else {
                write_ppm_header(&mut out, w, h, text).map_err(Error::Write)?;
                add(source.each_row(RowOrder::TopFirst, &mut |row| {
                    painter.push(row, &mut |rgb| out.write_all(rgb).map_err(Error::Write))
                })?);
            }
        }
        Format::Pbm => {
            write!(out, "P4\n{w} {h}\n").map_err(Error::Write)?;
            let mut packed = vec![0u8; (w as usize).div_ceil(8)];
            add(source.each_row(RowOrder::TopFirst, &mut |row| match row {
                Samples::Counts(c) => {
                    pack_pbm_row(c, shape.max_iter, &mut packed);
                    out.write_all(&packed).map_err(Error::Write)
                }
                Samples::Smooth(_) => Err(not_counts(format)),
            })?);
        }
        Format::Jpeg => unreachable!("a JPEG is encoded from the picture held whole"),
    }
    out.flush().map_err(Error::Write)?;
    Ok((passes.iterations, passes.computed))
}

/// The work of the passes over a source: the sum of the counts (of one pass), and the
/// iterations computed (in every pass).
#[derive(Debug, Default)]
pub(crate) struct Passes {
    pub iterations: u64,
    pub computed: u64,
}

impl Passes {
    fn add(&mut self, w: Work) {
        self.iterations = w.iterations;
        // Each pass computes its iterations again: what they cost is their sum.
        self.computed += w.iterations - w.skipped;
    }
}

/// The tally of `source`'s samples, where colouring them in `format` and `style` needs one
/// (a pass over them); else an empty one.
fn tally(
    source: &mut dyn SampleRows,
    shape: Shape,
    format: Format,
    style: &Style,
    passes: &mut Passes,
) -> Result<Tally> {
    let samples = u64::from(shape.width) * u64::from(shape.height) * u64::from(shape.k).pow(2);
    let mut tally = Tally::for_style(style, shape.max_iter, samples);
    if needs_tally(format, style) {
        passes.add(source.each_row(RowOrder::BottomFirst, &mut |row| {
            match row {
                Samples::Counts(c) => tally.add_counts(c),
                Samples::Smooth(v) => tally.add_values(v),
            }
            Ok(())
        })?);
    }
    Ok(tally)
}

/// The picture of `source`'s rows in `style`: RGB bytes, top row first, held whole (and
/// checked against memory), with the work of the passes.
pub(crate) fn picture(
    source: &mut dyn SampleRows,
    shape: Shape,
    style: &Style,
) -> Result<(Vec<u8>, Passes)> {
    let mut passes = Passes::default();
    let tally = tally(source, shape, Format::Png, style, &mut passes)?;
    let palette = Palette::new(style, shape.max_iter, tally)?;
    let mut painter = Painter::new(&palette, shape.width as usize, shape.k as usize);
    let pixels = u64::from(shape.width) * u64::from(shape.height);
    let mut rgb = memory::try_vec::<u8>("the picture", pixels.saturating_mul(3))?;
    passes.add(source.each_row(RowOrder::TopFirst, &mut |row| {
        painter.push(row, &mut |line| {
            rgb.extend_from_slice(line);
            Ok(())
        })
    })?);
    Ok((rgb, passes))
}

/// The error for smooth values where a format needs counts.
fn not_counts(format: Format) -> Error {
    Error::invalid(
        crate::Field::Format,
        format,
        "holds counts, and these samples are smooth values",
    )
}

/// Turns sample rows, top first, into rows of RGB pixels: each sample coloured by the
/// palette, each pixel the average of its `k`×`k` samples (`style::Downsampler`).
struct Painter<'p> {
    palette: &'p Palette,
    k: usize,
    shrink: Downsampler,
    /// The `k` sample rows of a pixel row, the lowest first.
    colors: Vec<[u8; 3]>,
    filled: usize,
    rgb: Vec<u8>,
}

impl<'p> Painter<'p> {
    fn new(palette: &'p Palette, width: usize, k: usize) -> Self {
        Painter {
            palette,
            k,
            shrink: Downsampler::new(width, k),
            colors: vec![[0; 3]; width * k * k],
            filled: 0,
            rgb: Vec::with_capacity(width * 3),
        }
    }

    /// Takes the next sample row; hands a pixel row to `emit` once it has all of its samples.
    fn push(&mut self, row: Samples, emit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let sw = self.colors.len() / self.k;
        // Top first: a pixel row's first sample row is its highest.
        let slot = self.k - 1 - self.filled;
        let colors = &mut self.colors[slot * sw..(slot + 1) * sw];
        let palette = self.palette;
        match row {
            Samples::Counts(c) => {
                for (color, &n) in colors.iter_mut().zip(c) {
                    *color = palette.color_count(n);
                }
            }
            Samples::Smooth(v) => {
                for (color, &v) in colors.iter_mut().zip(v) {
                    *color = palette.color_value(v);
                }
            }
        }
        self.filled += 1;
        if self.filled < self.k {
            return Ok(());
        }
        self.filled = 0;
        self.rgb.clear();
        self.shrink.row(&self.colors, &mut self.rgb);
        emit(&self.rgb)
    }
}
