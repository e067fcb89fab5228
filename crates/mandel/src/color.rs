//! Colour: from escape counts to pixels, the way the seed's `plt.imshow` shows them.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use colorgrad::{Color, Gradient, GradientBuilder, LinearGradient};

use crate::error::{Error, Result};
use crate::grid::Grid;

/// Colormaps by their matplotlib names. Viridis is the default, as in the seed's `imshow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Colormap {
    #[default]
    /// matplotlib's default since 2.0, and the seed's.
    Viridis,
    /// Black through purple to pale yellow.
    Magma,
    /// Black through red to pale yellow.
    Inferno,
    /// Blue through magenta to yellow.
    Plasma,
    /// Google's rainbow, dark blue through green to dark red.
    Turbo,
    /// Cyclic: pale through blue and red back to pale.
    Twilight,
    /// White to black.
    Greys,
    /// The classic fractal-explorer gradient, deep blue through white to gold; cyclic.
    Classic,
}

impl Colormap {
    /// Every colormap.
    pub const ALL: [Colormap; 8] = [
        Colormap::Viridis,
        Colormap::Magma,
        Colormap::Inferno,
        Colormap::Plasma,
        Colormap::Turbo,
        Colormap::Twilight,
        Colormap::Greys,
        Colormap::Classic,
    ];

    /// The colormap's name, as `--colormap` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
            Colormap::Inferno => "inferno",
            Colormap::Plasma => "plasma",
            Colormap::Turbo => "turbo",
            Colormap::Twilight => "twilight",
            Colormap::Greys => "greys",
            Colormap::Classic => "classic",
        }
    }

    /// A 256-entry lookup table, as matplotlib quantises its colormaps.
    pub fn lut(self) -> Lut {
        let mut table = [[0u8; 3]; 256];
        table.copy_from_slice(self.cached_lut(256));
        Lut(table)
    }

    /// `lut_n(n)` for the picture's two table sizes (256 and [`FINE_LUT`]), computed once per
    /// colormap: a small render spent more time sampling gradients than colouring.
    pub(crate) fn cached_lut(self, n: usize) -> &'static [[u8; 3]] {
        static TABLES: [[OnceLock<Vec<[u8; 3]>>; 2]; Colormap::ALL.len()] =
            [const { [const { OnceLock::new() }, const { OnceLock::new() }] }; 8];
        let which = match n {
            256 => 0,
            FINE_LUT => 1,
            _ => panic!("no cached table of {n} colours"),
        };
        let index = Colormap::ALL
            .iter()
            .position(|&c| c == self)
            .expect("listed");
        TABLES[index][which].get_or_init(|| self.lut_n(n))
    }

    /// `n` colours evenly spaced along the colormap, first to last.
    pub fn lut_n(self, n: usize) -> Vec<[u8; 3]> {
        let gradient = self.gradient();
        (0..n)
            .map(|i| {
                let [r, g, b, _] = gradient.at(i as f32 / (n - 1).max(1) as f32).to_rgba8();
                [r, g, b]
            })
            .collect()
    }

    fn gradient(self) -> Box<dyn Gradient> {
        match self {
            Colormap::Viridis => Box::new(colorgrad::preset::viridis()),
            Colormap::Magma => Box::new(colorgrad::preset::magma()),
            Colormap::Inferno => Box::new(colorgrad::preset::inferno()),
            Colormap::Plasma => Box::new(colorgrad::preset::plasma()),
            Colormap::Turbo => Box::new(colorgrad::preset::turbo()),
            Colormap::Twilight => Box::new(twilight()),
            Colormap::Greys => Box::new(colorgrad::preset::greys()),
            Colormap::Classic => Box::new(classic()),
        }
    }
}

/// matplotlib's cyclic `twilight`, which colorgrad lacks, interpolated through eleven of its
/// colours (sampled every tenth of the way); it starts and ends on the same colour.
fn twilight() -> LinearGradient {
    const STOPS: [[u8; 3]; 11] = [
        [226, 217, 226],
        [179, 196, 210],
        [116, 163, 197],
        [94, 121, 187],
        [91, 71, 163],
        [47, 20, 54],
        [107, 30, 74],
        [162, 62, 76],
        [195, 110, 90],
        [211, 169, 152],
        [226, 217, 226],
    ];
    let colors: Vec<Color> = STOPS
        .iter()
        .map(|&[r, g, b]| Color::from_rgba8(r, g, b, 255))
        .collect();
    GradientBuilder::new()
        .colors(&colors)
        .build::<LinearGradient>()
        .expect("eleven colours make a valid gradient")
}

/// Deep blue, light blue, white, gold, black and back to deep blue: the gradient fractal
/// explorers have made familiar, cyclic so that `--cycle` shows no seam.
fn classic() -> LinearGradient {
    const STOPS: [(f32, [u8; 3]); 6] = [
        (0.0, [0, 7, 100]),
        (0.16, [32, 107, 203]),
        (0.42, [237, 255, 255]),
        (0.6425, [255, 170, 0]),
        (0.8575, [0, 2, 0]),
        (1.0, [0, 7, 100]),
    ];
    let colors: Vec<Color> = STOPS
        .iter()
        .map(|&(_, [r, g, b])| Color::from_rgba8(r, g, b, 255))
        .collect();
    let positions: Vec<f32> = STOPS.iter().map(|&(p, _)| p).collect();
    GradientBuilder::new()
        .colors(&colors)
        .domain(&positions)
        .build::<LinearGradient>()
        .expect("six colours at increasing positions make a valid gradient")
}

impl fmt::Display for Colormap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Colormap {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        // matplotlib spells it "Greys"; accept the American spelling too.
        let lower = if lower == "grays" {
            "greys".into()
        } else {
            lower
        };
        Colormap::ALL
            .into_iter()
            .find(|c| c.name() == lower)
            .ok_or_else(|| {
                let names: Vec<_> = Colormap::ALL.iter().map(|c| c.name()).collect();
                Error::invalid(
                    crate::Field::Colormap,
                    s,
                    format!("is not known (choose one of {})", names.join(", ")),
                )
            })
    }
}

/// Colours in the fine table that smooth, histogram and cycling colours pick from.
pub(crate) const FINE_LUT: usize = 1024;

/// 256 colours, index 0 for the lowest value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lut(pub [[u8; 3]; 256]);

/// Maps counts linearly from `[lo, hi]` onto 256 levels, as imshow's default `Normalize`
/// followed by a 256-colour map: level = floor((c - lo) / (hi - lo) * 256), capped at 255.
/// A constant image maps to level 0, as matplotlib does.
#[derive(Debug, Clone, Copy)]
pub struct LinearScale {
    lo: u32,
    hi: u32,
}

impl LinearScale {
    /// The scale from `lo` (level 0) to `hi` (level 255).
    pub fn new(lo: u32, hi: u32) -> Self {
        LinearScale { lo, hi }
    }

    /// The imshow default: from the image's smallest to its largest count.
    pub fn of(grid: &Grid) -> Self {
        let (lo, hi) = grid.min_max();
        LinearScale { lo, hi }
    }

    #[inline]
    /// The level (0 to 255) of `count`.
    pub fn level(&self, count: u32) -> u8 {
        if self.hi <= self.lo {
            return 0;
        }
        let t = f64::from(count.saturating_sub(self.lo)) / f64::from(self.hi - self.lo);
        (t * 256.0).min(255.0) as u8
    }
}

/// The picture's rows top to bottom: the top row is `ymax`, so the imaginary axis points up,
/// as a person expects (and unlike the grid's and numpy's row order).
pub(crate) fn picture_rows(grid: &Grid) -> impl Iterator<Item = &[u32]> {
    grid.rows().rev()
}

/// An RGB picture of the grid with the given colormap, top row first.
pub(crate) fn to_rgb(grid: &Grid, colormap: Colormap) -> Result<Vec<u8>> {
    let lut = colormap.lut();
    let scale = LinearScale::of(grid);
    let mut rgb = crate::memory::try_vec(
        "the RGB picture",
        grid.width() as u64 * grid.height() as u64 * 3,
    )?;
    for row in picture_rows(grid) {
        rgb.extend(row.iter().flat_map(|&c| lut.0[scale.level(c) as usize]));
    }
    Ok(rgb)
}

/// A greyscale picture of the grid (level 0 for the lowest count), top row first.
pub(crate) fn to_grey(grid: &Grid) -> Result<Vec<u8>> {
    let scale = LinearScale::of(grid);
    let mut grey = crate::memory::try_vec(
        "the greyscale picture",
        grid.width() as u64 * grid.height() as u64,
    )?;
    for row in picture_rows(grid) {
        grey.extend(row.iter().map(|&c| scale.level(c)));
    }
    Ok(grey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Colormap::ALL {
            assert_eq!(c.name().parse::<Colormap>().unwrap(), c);
        }
        assert_eq!("Greys".parse::<Colormap>().unwrap(), Colormap::Greys);
        let err = "jet".parse::<Colormap>().unwrap_err().to_string();
        assert!(err.contains("colormap = jet"), "{err}");
    }

    #[test]
    fn scale_spans_all_levels() {
        let s = LinearScale { lo: 10, hi: 20 };
        assert_eq!(s.level(10), 0);
        assert_eq!(s.level(15), 128);
        assert_eq!(s.level(20), 255);
        assert_eq!(LinearScale { lo: 5, hi: 5 }.level(5), 0);
    }

    #[test]
    fn luts_are_distinct_and_viridis_runs_dark_to_bright() {
        let v = Colormap::Viridis.lut().0;
        // viridis starts dark purple and ends bright yellow.
        assert!(v[0][2] > v[0][1] && v[255][0] > 200 && v[255][1] > 200);
        let luts: Vec<_> = Colormap::ALL.iter().map(|c| c.lut()).collect();
        for (i, a) in luts.iter().enumerate() {
            for b in &luts[i + 1..] {
                assert_ne!(a, b);
            }
        }
        for cyclic in [Colormap::Twilight, Colormap::Classic] {
            let t = cyclic.lut().0;
            assert_eq!(t[0], t[255], "{cyclic} is cyclic");
        }
    }
}
