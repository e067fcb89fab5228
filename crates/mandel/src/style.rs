//! Pictures people want to look at: how escape counts (or the smooth iteration count) become
//! colours, with anti-aliasing. None of this changes a count: `.npy` output never sees it.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use mandel_kernel::{Bounds, Viewport};

use crate::color::{Colormap, LinearScale};
use crate::error::{Error, Field, Result};
use crate::memory;
use crate::render::{Band, Engine, Params};
use crate::stream;

/// How values map onto the colormap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMode {
    /// The seed's `imshow`: counts scaled linearly from the smallest to the largest.
    #[default]
    Counts,
    /// The continuous (normalized) iteration count, from the final |z| with escape radius
    /// [`SMOOTH_RADIUS`]: no bands.
    Smooth,
    /// Histogram equalisation of the counts, so that each colour covers as many pixels as the
    /// next and deep zooms are not one colour.
    Histogram,
}

impl ColorMode {
    /// The mode's name, as `--color` takes it.
    pub fn name(self) -> &'static str {
        match self {
            ColorMode::Counts => "counts",
            ColorMode::Smooth => "smooth",
            ColorMode::Histogram => "histogram",
        }
    }
}

impl fmt::Display for ColorMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ColorMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "counts" => Ok(ColorMode::Counts),
            "smooth" => Ok(ColorMode::Smooth),
            "histogram" => Ok(ColorMode::Histogram),
            _ => Err(Error::invalid(
                Field::Color,
                s,
                "is not known (choose counts, smooth or histogram)",
            )),
        }
    }
}

pub use mandel_kernel::SMOOTH_RADIUS;

/// Everything about a picture beyond the grid itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    /// How values map onto the colormap.
    pub mode: ColorMode,
    /// The colormap.
    pub colormap: Colormap,
    /// Repeat the colormap every this many iterations (counts and smooth modes).
    pub cycle: Option<f64>,
    /// Shift along the colormap, as a fraction of it.
    pub offset: f64,
    /// Colour of the points taken to be in the set; None: the colormap's top colour for
    /// `counts` (the imshow look), black otherwise.
    pub inside: Option<[u8; 3]>,
    /// K: K×K samples per pixel, averaged in linear light.
    pub supersample: u32,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            mode: ColorMode::Counts,
            colormap: Colormap::Viridis,
            cycle: None,
            offset: 0.0,
            inside: None,
            supersample: 1,
        }
    }
}

impl Style {
    /// Checks every value; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        if let Some(c) = self.cycle
            && !(c.is_finite() && c > 0.0)
        {
            return Err(Error::invalid(
                Field::Cycle,
                c,
                "must be a number greater than 0",
            ));
        }
        if !self.offset.is_finite() {
            return Err(Error::invalid(
                Field::Offset,
                self.offset,
                "must be a finite number",
            ));
        }
        if !(1..=16).contains(&self.supersample) {
            return Err(Error::invalid(
                Field::Supersample,
                self.supersample,
                "must be from 1 to 16",
            ));
        }
        Ok(())
    }

    /// Whether this is the seed's picture: linear counts, no cycle or offset, one sample, the
    /// default inside colour. It is drawn straight from the count grid, in one pass of pixel
    /// rows; every other style takes a pass of sample rows.
    pub(crate) fn is_plain_counts(&self) -> bool {
        self.mode == ColorMode::Counts
            && self.cycle.is_none()
            && self.offset == 0.0
            && self.supersample == 1
            && self.inside.is_none()
    }

    /// The colours this style gives `counts`, one per count, in the same order: a count grid
    /// of `max_iter` (a count of `max_iter` is a point taken to be in the set) coloured as
    /// [`crate::Job::run`] colours its pictures. Only counts go in, so the smooth mode, which
    /// needs each orbit's final |z|, and supersampling, which needs samples between pixels,
    /// are refused; so is a count above `max_iter`.
    pub fn colorize_counts(&self, counts: &[u32], max_iter: u32) -> Result<Vec<[u8; 3]>> {
        self.validate()?;
        if self.mode == ColorMode::Smooth {
            return Err(Error::invalid(
                Field::Color,
                self.mode,
                "needs each orbit's final |z|, which counts do not keep",
            ));
        }
        if self.supersample > 1 {
            return Err(Error::invalid(
                Field::Supersample,
                self.supersample,
                "needs samples between the pixels, which counts do not have",
            ));
        }
        if let Some(&top) = counts.iter().max()
            && top > max_iter
        {
            return Err(Error::invalid(
                Field::MaxIter,
                max_iter,
                format!("is less than the largest count ({top})"),
            ));
        }
        let mut tally = Tally::for_style(self, max_iter, counts.len() as u64);
        tally.add_counts(counts);
        let palette = Palette::new(self, max_iter, tally)?;
        let mut colors = memory::try_vec("the colours", counts.len() as u64)?;
        colors.extend(counts.iter().map(|&n| palette.color_count(n)));
        Ok(colors)
    }
}

/// Parses a colour: `#rrggbb`, `#rgb` or a CSS name such as `black`.
pub fn parse_color(s: &str) -> Result<[u8; 3]> {
    let c = colorgrad::Color::from_html(s)
        .map_err(|_| Error::invalid(Field::Inside, s, "is not a colour (#rrggbb or a CSS name)"))?;
    let [r, g, b, _] = c.to_rgba8();
    Ok([r, g, b])
}

/// The work a pass did: the sum of its counts (or of the smooth mode's), and how many of those
/// iterations proven shortcuts skipped rather than computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Work {
    pub iterations: u64,
    pub skipped: u64,
}

/// The picture of the rows of `params` in `style`: RGB bytes, top row (ymax) first, and the
/// work done. `on_pixels` hears of every band of samples finished (`supersample` squared per
/// pixel, except for the plain counts picture, which takes one pass of pixels).
pub(crate) fn paint(
    params: &Params,
    engine: &Engine,
    style: &Style,
    on_pixels: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<u8>, Work)> {
    style.validate()?;
    let on_band = |band: Band| on_pixels(band.pixels());
    if style.is_plain_counts() {
        let (grid, skipped) = crate::render::render(params, engine, &on_band)?;
        let work = Work {
            iterations: grid.total_iterations(),
            skipped,
        };
        return Ok((crate::color::to_rgb(&grid, style.colormap)?, work));
    }
    let k = style.supersample;
    let samples = sample_params(params, k)?;
    let shape = stream::Shape {
        width: params.viewport.width(),
        height: params.rows.len() as u32,
        k,
        max_iter: params.max_iter,
    };
    let in_process = !matches!(engine.pool, crate::Pool::Processes { .. });
    if in_process && !stream::needs_tally(crate::Format::Png, style) {
        // Colours that need no tally are painted as the rows finish, while the next rows
        // are computed: only the picture is held. (A process pool's workers fill a grid.)
        let mut source = stream::Computed {
            smooth: style.mode == ColorMode::Smooth,
            params: samples,
            engine,
            on_samples: on_pixels,
        };
        let (rgb, passes) = stream::picture(&mut source, shape, style)?;
        let work = Work {
            iterations: passes.iterations,
            skipped: passes.iterations - passes.computed,
        };
        return Ok((rgb, work));
    }
    let (held, work) = held_samples(&samples, engine, style, on_pixels)?;
    engine.check_stop()?;
    let mut source = stream::Held {
        width: samples.viewport.width() as usize,
        samples: held,
    };
    let (rgb, _) = stream::picture(&mut source, shape, style)?;
    Ok((rgb, work))
}

/// The grid of K×K samples per pixel, centred on each pixel's own sample point, for the same
/// rows.
pub(crate) fn sample_params(params: &Params, k: u32) -> Result<Params> {
    let vp = &params.viewport;
    if k == 1 {
        return Ok(params.clone());
    }
    let b = vp.bounds();
    let shift = 0.5 / f64::from(k) - 0.5;
    let (w, h) = (vp.width().checked_mul(k), vp.height().checked_mul(k));
    let (Some(w), Some(h)) = (w, h) else {
        return Err(Error::invalid(
            Field::Supersample,
            k,
            "makes the sample grid too large",
        ));
    };
    let xmin = b.xmin + shift * vp.dx();
    let ymin = b.ymin + shift * vp.dy();
    let viewport = Viewport::new(
        Bounds {
            xmin,
            xmax: xmin + (b.xmax - b.xmin),
            ymin,
            ymax: ymin + (b.ymax - b.ymin),
        },
        w,
        h,
    )?;
    Ok(Params {
        viewport,
        max_iter: params.max_iter,
        rows: params.rows.start * k..params.rows.end * k,
        deep: params.deep.as_ref().map(|d| Arc::new(d.supersampled(k))),
    })
}

/// Per sample of the rows of `params`, the first row first, what the style colours (smooth
/// values, NaN for a point taken to be in the set; or counts), and the work done.
fn held_samples(
    params: &Params,
    engine: &Engine,
    style: &Style,
    on_pixels: &(dyn Fn(u64) + Sync),
) -> Result<(stream::HeldSamples, Work)> {
    if style.mode == ColorMode::Smooth {
        let mut values = memory::try_vec::<f64>("the smooth values", params.pixels())?;
        values.resize(params.pixels() as usize, 0.0);
        let smooth = crate::render::SmoothFill::new(params, engine)?;
        let fill = |first: u64, out: &mut [f64]| smooth.fill(first, out);
        let on_band = |band: Band<f64>| on_pixels(band.pixels());
        let iterations = crate::render::fill_spans(params, engine, &mut values, &fill, &on_band)?;
        let work = Work {
            iterations,
            skipped: smooth.skipped(),
        };
        return Ok((stream::HeldSamples::Smooth(values), work));
    }
    let (counts, skipped) =
        crate::render::render(params, engine, &|band| on_pixels(band.pixels()))?;
    let work = Work {
        iterations: counts.total_iterations(),
        skipped,
    };
    Ok((stream::HeldSamples::Counts(counts.into_counts()), work))
}

/// What colouring needs to know of all the samples before it colours any, gathered in one
/// pass over them in any order and any pieces: so a picture streamed row by row is coloured
/// exactly as one held whole.
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    /// The smallest and largest count, the set's included (the plain counts picture, PGM).
    counts: Option<(u32, u32)>,
    /// The smallest and largest value of the samples that escaped.
    escaped: Option<(f64, f64)>,
    /// Whether some sample is taken to be in the set.
    inside: bool,
    /// Escaped samples per count, for histogram colouring only.
    histogram: Option<Histogram>,
    max_iter: u32,
}

impl Tally {
    /// An empty tally for `samples` samples of a picture in `style` (and for PGM, which
    /// needs only the counts' range).
    pub fn for_style(style: &Style, max_iter: u32, samples: u64) -> Tally {
        let histogram = style.mode == ColorMode::Histogram;
        Tally {
            counts: None,
            escaped: None,
            inside: false,
            histogram: histogram.then(|| Histogram::new(max_iter, samples)),
            max_iter,
        }
    }

    /// Adds counts (a count of max-iter or more is a point taken to be in the set).
    pub fn add_counts(&mut self, counts: &[u32]) {
        let Some((lo, hi)) = counts
            .iter()
            .fold(None, |r: Option<(u32, u32)>, &n| match r {
                None => Some((n, n)),
                Some((lo, hi)) => Some((lo.min(n), hi.max(n))),
            })
        else {
            return;
        };
        self.counts = Some(match self.counts {
            None => (lo, hi),
            Some((a, b)) => (a.min(lo), b.max(hi)),
        });
        let max_iter = self.max_iter;
        let escaped = counts.iter().filter(move |&&n| n < max_iter);
        self.escaped_range(escaped.clone().map(|&n| f64::from(n)));
        self.inside |= hi >= self.max_iter;
        if let Some(h) = &mut self.histogram {
            escaped.for_each(|&n| h.add(n));
        }
    }

    /// Adds values to colour (NaN: a point taken to be in the set).
    pub fn add_values(&mut self, values: &[f64]) {
        let escaped = values.iter().filter(|v| !v.is_nan());
        self.escaped_range(escaped.clone().copied());
        self.inside |= values.iter().any(|v| v.is_nan());
        if let Some(h) = &mut self.histogram {
            escaped.for_each(|&v| h.add(v as u32));
        }
    }

    fn escaped_range(&mut self, values: impl Iterator<Item = f64>) {
        for v in values {
            self.escaped = Some(match self.escaped {
                None => (v, v),
                Some((lo, hi)) => (lo.min(v), hi.max(v)),
            });
        }
    }

    /// The scale of the plain counts picture and of PGM: imshow's, from the smallest count
    /// to the largest.
    pub fn count_scale(&self) -> LinearScale {
        let (lo, hi) = self.counts.unwrap_or((0, 0));
        LinearScale::new(lo, hi)
    }
}

/// Escaped samples per count: a table by count while max-iter is below the samples (and
/// [`HISTOGRAM_TABLE_MAX`]), else the counts present (whose number is bounded by the
/// samples, whatever max-iter).
#[derive(Debug, Clone)]
enum Histogram {
    ByCount(Vec<u64>),
    Present(std::collections::BTreeMap<u32, u64>),
}

/// Largest max-iter whose histogram is a table by count (8 MB).
const HISTOGRAM_TABLE_MAX: u32 = 1 << 20;

impl Histogram {
    fn new(max_iter: u32, samples: u64) -> Histogram {
        if u64::from(max_iter) < samples && max_iter <= HISTOGRAM_TABLE_MAX {
            Histogram::ByCount(vec![0; max_iter as usize + 1])
        } else {
            Histogram::Present(Default::default())
        }
    }

    fn add(&mut self, n: u32) {
        match self {
            Histogram::ByCount(h) => h[n as usize] += 1,
            Histogram::Present(h) => *h.entry(n).or_default() += 1,
        }
    }
}

/// A style's colours with their scale fixed by a [`Tally`] of all the samples.
pub(crate) struct Palette {
    kind: PaletteKind,
    fine: &'static [[u8; 3]],
    lut256: &'static [[u8; 3]],
    inside: [u8; 3],
    offset: f64,
    max_iter: u32,
}

enum PaletteKind {
    /// The plain counts picture: imshow's scale over every count, the set's included.
    Plain(LinearScale),
    Histogram(Equalised),
    Cycle(f64),
    /// imshow's linear scale over all counts, the set included, quantised to 256.
    Counts(LinearScale),
    /// The smooth values' range: its start, and its span.
    Smooth(f64, f64),
}

impl Palette {
    /// The colours of `style` for the samples `tally` has seen.
    pub fn new(style: &Style, max_iter: u32, tally: Tally) -> Result<Palette> {
        const FINE: usize = crate::color::FINE_LUT;
        let lut256 = style.colormap.cached_lut(256);
        let inside = style.inside.unwrap_or(match style.mode {
            ColorMode::Counts => lut256[255],
            _ => [0, 0, 0],
        });
        let kind = match (style.mode, style.cycle) {
            _ if style.is_plain_counts() => PaletteKind::Plain(tally.count_scale()),
            (ColorMode::Histogram, _) => {
                let histogram = tally
                    .histogram
                    .expect("a histogram style's tally keeps one");
                PaletteKind::Histogram(Equalised::new(histogram))
            }
            (_, Some(n)) => PaletteKind::Cycle(n),
            (ColorMode::Counts, None) => {
                let hi = if tally.inside {
                    max_iter
                } else {
                    tally.escaped.map_or(0.0, |(_, hi)| hi.max(0.0)) as u32
                };
                let lo = tally.escaped.map_or(max_iter, |(lo, _)| lo as u32);
                PaletteKind::Counts(LinearScale::new(lo, hi))
            }
            (ColorMode::Smooth, None) => {
                let (lo, hi) = tally.escaped.unwrap_or((f64::MAX, f64::MIN));
                PaletteKind::Smooth(lo, if hi > lo { hi - lo } else { 1.0 })
            }
        };
        Ok(Palette {
            kind,
            fine: style.colormap.cached_lut(FINE),
            lut256,
            inside,
            offset: style.offset,
            max_iter,
        })
    }

    /// The colour of a count.
    #[inline]
    pub fn color_count(&self, n: u32) -> [u8; 3] {
        match &self.kind {
            PaletteKind::Plain(scale) => self.lut256[scale.level(n) as usize],
            _ if n >= self.max_iter => self.inside,
            _ => self.color_value(f64::from(n)),
        }
    }

    /// The colour of a value (NaN: a point taken to be in the set).
    #[inline]
    pub fn color_value(&self, v: f64) -> [u8; 3] {
        let pick = |t: f64| {
            let fine = self.fine;
            fine[((t.clamp(0.0, 1.0)) * (fine.len() - 1) as f64).round() as usize]
        };
        let wrap = |t: f64| t.rem_euclid(1.0);
        if v.is_nan() {
            return match &self.kind {
                PaletteKind::Plain(scale) => self.lut256[scale.level(self.max_iter) as usize],
                _ => self.inside,
            };
        }
        match &self.kind {
            PaletteKind::Plain(scale) => self.lut256[scale.level(v as u32) as usize],
            PaletteKind::Histogram(cdf) if self.offset == 0.0 => pick(cdf.at(v as u32)),
            PaletteKind::Histogram(cdf) => pick(wrap(cdf.at(v as u32) + self.offset)),
            PaletteKind::Cycle(n) => pick(wrap(v / n + self.offset)),
            PaletteKind::Counts(scale) if self.offset == 0.0 => {
                self.lut256[scale.level(v as u32) as usize]
            }
            PaletteKind::Counts(scale) => {
                pick(wrap(f64::from(scale.level(v as u32)) / 255.0 + self.offset))
            }
            PaletteKind::Smooth(lo, span) => pick(wrap_unless_zero((v - lo) / span, self.offset)),
        }
    }
}

fn wrap_unless_zero(t: f64, offset: f64) -> f64 {
    if offset == 0.0 {
        t
    } else {
        (t + offset).rem_euclid(1.0)
    }
}

/// For each count, where it falls on the palette after histogram equalisation: the share of
/// escaped samples with a smaller count, scaled so that the smallest count present maps to 0
/// and the largest to 1. Its memory is the histogram's.
enum Equalised {
    /// Indexed by count, 0 to max-iter.
    ByCount(Vec<f64>),
    /// (count, position) for each count present, ascending.
    Present(Vec<(u32, f64)>),
}

impl Equalised {
    fn new(histogram: Histogram) -> Self {
        // Counts absent from the table add nothing below the counts present, so both forms
        // give every count present the same position.
        match histogram {
            Histogram::ByCount(hist) => {
                let top = hist.iter().rfind(|&&h| h > 0).copied().unwrap_or(0);
                Equalised::ByCount(positions(&hist, top).collect())
            }
            Histogram::Present(present) => {
                let freqs: Vec<u64> = present.values().copied().collect();
                let top = freqs.last().copied().unwrap_or(0);
                let at = present.keys().zip(positions(&freqs, top));
                Equalised::Present(at.map(|(&c, t)| (c, t)).collect())
            }
        }
    }

    /// The position of `count`, which must be one of the counts present.
    fn at(&self, count: u32) -> f64 {
        match self {
            Equalised::ByCount(t) => t[count as usize],
            Equalised::Present(present) => {
                let i = present.partition_point(|&(c, _)| c < count);
                present.get(i).map_or(1.0, |&(_, t)| t)
            }
        }
    }
}

/// Samples per count, in ascending order of count, to positions on the palette: the samples
/// of smaller counts over all samples but the `top` ones of the largest count present.
fn positions(freqs: &[u64], top: u64) -> impl Iterator<Item = f64> {
    let below_largest = freqs.iter().sum::<u64>() - top;
    freqs.iter().scan(0u64, move |below, &h| {
        let t = *below as f64 / below_largest.max(1) as f64;
        *below += h;
        Some(t.min(1.0))
    })
}

/// Averages the K×K sample colours of each pixel of a row in linear light.
pub(crate) struct Downsampler {
    width: usize,
    k: usize,
    to_linear: Vec<f32>,
}

impl Downsampler {
    /// For rows of `width` pixels of `k`×`k` samples.
    pub fn new(width: usize, k: usize) -> Downsampler {
        let to_linear = (0..256).map(|i| srgb_to_linear(i as f32 / 255.0)).collect();
        Downsampler {
            width,
            k,
            to_linear,
        }
    }

    /// Appends to `rgb` the pixel row whose `k` sample rows (of `width·k` colours, the
    /// lowest first) are `colors`.
    pub fn row(&self, colors: &[[u8; 3]], rgb: &mut Vec<u8>) {
        let (w, k) = (self.width, self.k);
        let sw = w * k;
        debug_assert_eq!(colors.len(), k * sw);
        for c in 0..w {
            if k == 1 {
                rgb.extend_from_slice(&colors[c]);
                continue;
            }
            let mut acc = [0f32; 3];
            for i in 0..k {
                for j in 0..k {
                    let px = colors[i * sw + c * k + j];
                    for ch in 0..3 {
                        acc[ch] += self.to_linear[px[ch] as usize];
                    }
                }
            }
            let n = (k * k) as f32;
            rgb.extend(
                acc.map(|a| (linear_to_srgb(a / n) * 255.0).round().clamp(0.0, 255.0) as u8),
            );
        }
    }
}

fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kernel, Pool};

    /// What the colouring sees of the samples of `params` in `style`: the smooth values, or
    /// the counts as values (NaN for a point taken to be in the set).
    fn sample_values(
        params: &Params,
        engine: &Engine,
        style: &Style,
        on_pixels: &(dyn Fn(u64) + Sync),
    ) -> Result<(Vec<f64>, Work)> {
        let (held, work) = held_samples(params, engine, style, on_pixels)?;
        let values = match held {
            stream::HeldSamples::Smooth(values) => values,
            stream::HeldSamples::Counts(counts) => counts
                .iter()
                .map(|&n| match n >= params.max_iter {
                    true => f64::NAN,
                    false => f64::from(n),
                })
                .collect(),
        };
        Ok((values, work))
    }

    /// The colour of each of `values` in `style`.
    fn colorize(values: &[f64], max_iter: u32, style: &Style) -> Result<Vec<[u8; 3]>> {
        let mut tally = Tally::for_style(style, max_iter, values.len() as u64);
        tally.add_values(values);
        let palette = Palette::new(style, max_iter, tally)?;
        Ok(values.iter().map(|&v| palette.color_value(v)).collect())
    }

    fn engine() -> Engine {
        Engine::new(Pool::Sequential, Kernel::best())
    }

    #[test]
    fn smooth_values_are_continuous_across_band_edges() {
        // A fine line across the escaping region left of the set: counts jump by whole
        // iterations along it, the smooth value must not.
        let steps = 20_000;
        let bounds = Bounds {
            xmin: 0.3,
            xmax: 0.6,
            ymin: 0.01,
            ymax: 0.02,
        };
        let vp = Viewport::new(bounds, steps, 1).unwrap();
        let mut smooth = vec![0.0; steps as usize];
        mandel_kernel::smooth_span(&vp, 0, 1000, mandel_kernel::Stop::never(), &mut smooth)
            .unwrap();
        let mut last: Option<(u32, f64)> = None;
        let (mut band_edges, mut worst) = (0, 0.0f64);
        for (col, &nu) in (0..steps).zip(&smooth) {
            assert!(!nu.is_nan(), "the line lies outside the set");
            let n = crate::escape_time(vp.cx(col), vp.cy(0), 1000);
            if let Some((pn, pnu)) = last {
                if pn != n {
                    band_edges += 1;
                }
                worst = worst.max((nu - pnu).abs());
            }
            last = Some((n, nu));
        }
        assert!(band_edges >= 2, "the line must cross band edges");
        assert!(worst < 0.01, "smooth value jumps by {worst}");
    }

    #[test]
    fn deep_smooth_values_lie_between_the_counts_around_them() {
        let mut job = crate::Job {
            width: 24,
            height: 16,
            max_iter: 3000,
            ..crate::Job::default()
        };
        job.set("center", "0,1").unwrap();
        job.set("zoom", "1e300").unwrap();
        let plan = job.plan().unwrap();
        let smooth = Style {
            mode: ColorMode::Smooth,
            ..Style::default()
        };
        let (values, _) = sample_values(&plan.params, &plan.engine, &smooth, &|_| {}).unwrap();
        let counts = job.counts().unwrap();
        for (&nu, &n) in values.iter().zip(counts.counts()) {
            if n == job.max_iter {
                assert!(
                    nu.is_nan(),
                    "inside to the counts is inside to the smooth count"
                );
                continue;
            }
            // As the double kernels': past radius 2 to radius 256, a few steps more.
            assert!(
                nu > f64::from(n) - 1.0 && nu < f64::from(n) + 8.0,
                "{nu} vs {n}"
            );
        }
    }

    /// The values of the seed's view at 120x80, max-iter 500.
    fn seed_values() -> Vec<f64> {
        let params = Params::new(Viewport::seed(120, 80).unwrap(), 500).unwrap();
        sample_values(&params, &engine(), &Style::default(), &|_| {})
            .unwrap()
            .0
    }

    fn equalised(values: &[f64], max_iter: u32) -> Equalised {
        let style = Style {
            mode: ColorMode::Histogram,
            ..Style::default()
        };
        let mut tally = Tally::for_style(&style, max_iter, values.len() as u64);
        tally.add_values(values);
        Equalised::new(tally.histogram.unwrap())
    }

    #[test]
    fn histogram_colouring_uses_the_whole_palette() {
        let values = seed_values();
        let cdf = equalised(&values, 500);
        let used: Vec<f64> = values
            .iter()
            .filter(|v| !v.is_nan())
            .map(|&v| cdf.at(v as u32))
            .collect();
        let lo = used.iter().copied().fold(1.0, f64::min);
        let hi = used.iter().copied().fold(0.0, f64::max);
        assert_eq!((lo, hi), (0.0, 1.0));
        // Equalised: about half the escaped pixels sit below the middle of the palette.
        let below = used.iter().filter(|&&t| t <= 0.5).count() as f64 / used.len() as f64;
        assert!((0.3..0.7).contains(&below), "{below}");
    }

    #[test]
    fn the_histogram_by_count_and_by_counts_present_agree() {
        // 120x80 samples: max-iter 500 takes the table by count, 50,000 the counts present.
        let values = seed_values();
        let by_count = equalised(&values, 500);
        let present = equalised(&values, 50_000);
        assert!(matches!(by_count, Equalised::ByCount(_)));
        assert!(matches!(present, Equalised::Present(_)));
        for &v in values.iter().filter(|v| !v.is_nan()) {
            assert_eq!(by_count.at(v as u32), present.at(v as u32), "count {v}");
        }
    }

    #[test]
    fn a_histogram_at_a_huge_max_iter_needs_memory_for_the_samples_only() {
        // A table by count would be 32 GB here. (Right of the set: every point escapes soon.)
        let bounds = Bounds {
            xmin: 0.5,
            xmax: 1.0,
            ymin: 0.5,
            ymax: 1.0,
        };
        let vp = Viewport::new(bounds, 4, 4).unwrap();
        let params = Params::new(vp, 4_000_000_000).unwrap();
        let engine = Engine::new(Pool::Sequential, Kernel::best());
        let style = Style {
            mode: ColorMode::Histogram,
            ..Style::default()
        };
        let (rgb, _) = paint(&params, &engine, &style, &|_| {}).unwrap();
        assert_eq!(rgb.len(), 4 * 4 * 3);
    }

    #[test]
    fn supersampling_a_uniform_region_changes_nothing() {
        // Entirely inside the set: every sample is the inside colour.
        let vp = Viewport::new(
            Bounds {
                xmin: -0.2,
                xmax: 0.1,
                ymin: -0.1,
                ymax: 0.1,
            },
            24,
            16,
        )
        .unwrap();
        let params = Params::new(vp, 200).unwrap();
        for mode in [ColorMode::Counts, ColorMode::Smooth, ColorMode::Histogram] {
            let one = Style {
                mode,
                inside: Some([10, 20, 30]),
                ..Style::default()
            };
            let three = Style {
                supersample: 3,
                ..one
            };
            let a = paint(&params, &engine(), &one, &|_| {}).unwrap().0;
            let b = paint(&params, &engine(), &three, &|_| {}).unwrap().0;
            assert_eq!(a, b, "{mode}");
            assert!(a.chunks(3).all(|p| p == [10, 20, 30]));
        }
    }

    #[test]
    fn plain_counts_style_is_the_imshow_picture() {
        let params = Params::new(Viewport::seed(30, 20).unwrap(), 100).unwrap();
        let (grid, _) = crate::render::render(&params, &engine(), &|_| {}).unwrap();
        let plain = paint(&params, &engine(), &Style::default(), &|_| {})
            .unwrap()
            .0;
        assert_eq!(
            plain,
            crate::color::to_rgb(&grid, Colormap::Viridis).unwrap()
        );
        // Going through the general path with the same settings gives the same picture.
        let general = Style {
            inside: Some(Colormap::Viridis.lut().0[255]),
            ..Style::default()
        };
        assert_eq!(
            paint(&params, &engine(), &general, &|_| {}).unwrap().0,
            plain
        );
    }

    #[test]
    fn cycling_wraps_the_palette() {
        let params = Params::new(Viewport::seed(60, 40).unwrap(), 300).unwrap();
        let style = Style {
            cycle: Some(4.0),
            colormap: Colormap::Twilight,
            ..Style::default()
        };
        let values = sample_values(&params, &engine(), &style, &|_| {})
            .unwrap()
            .0;
        let colors = colorize(&values, 300, &style).unwrap();
        let fine = Colormap::Twilight.lut_n(1024);
        for (v, c) in values.iter().zip(&colors) {
            if !v.is_nan() {
                let t = (v / 4.0).rem_euclid(1.0);
                assert_eq!(*c, fine[(t * 1023.0).round() as usize]);
            }
        }
    }

    #[test]
    fn bad_styles_are_named() {
        let bad = |s: Style| s.validate().unwrap_err().to_string();
        assert!(
            bad(Style {
                cycle: Some(0.0),
                ..Style::default()
            })
            .contains("cycle")
        );
        assert!(
            bad(Style {
                supersample: 0,
                ..Style::default()
            })
            .contains("supersample")
        );
        assert!(
            bad(Style {
                offset: f64::NAN,
                ..Style::default()
            })
            .contains("offset")
        );
        assert_eq!(parse_color("#ff8000").unwrap(), [255, 128, 0]);
        assert_eq!(parse_color("black").unwrap(), [0, 0, 0]);
        assert!(
            parse_color("notacolour")
                .unwrap_err()
                .to_string()
                .contains("notacolour")
        );
    }
}
