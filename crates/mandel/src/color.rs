//! Colour: from escape counts to pixels, the way the seed's `plt.imshow` shows them.

use std::fmt;
use std::str::FromStr;

use colorgrad::{Color, Gradient, GradientBuilder, LinearGradient};

use crate::error::{Error, Result};
use crate::grid::Grid;

/// Colormaps by their matplotlib names. Viridis is the default, as in the seed's `imshow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Colormap {
    #[default]
    Viridis,
    Magma,
    Inferno,
    Plasma,
    Turbo,
    Twilight,
    Greys,
}

impl Colormap {
    pub const ALL: [Colormap; 7] = [
        Colormap::Viridis,
        Colormap::Magma,
        Colormap::Inferno,
        Colormap::Plasma,
        Colormap::Turbo,
        Colormap::Twilight,
        Colormap::Greys,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
            Colormap::Inferno => "inferno",
            Colormap::Plasma => "plasma",
            Colormap::Turbo => "turbo",
            Colormap::Twilight => "twilight",
            Colormap::Greys => "greys",
        }
    }

    /// A 256-entry lookup table, as matplotlib quantises its colormaps.
    pub fn lut(self) -> Lut {
        let gradient: Box<dyn Gradient> = match self {
            Colormap::Viridis => Box::new(colorgrad::preset::viridis()),
            Colormap::Magma => Box::new(colorgrad::preset::magma()),
            Colormap::Inferno => Box::new(colorgrad::preset::inferno()),
            Colormap::Plasma => Box::new(colorgrad::preset::plasma()),
            Colormap::Turbo => Box::new(colorgrad::preset::turbo()),
            Colormap::Twilight => Box::new(twilight()),
            Colormap::Greys => Box::new(colorgrad::preset::greys()),
        };
        let mut table = [[0u8; 3]; 256];
        for (i, entry) in table.iter_mut().enumerate() {
            let [r, g, b, _] = gradient.at(i as f32 / 255.0).to_rgba8();
            *entry = [r, g, b];
        }
        Lut(table)
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
                    "colormap",
                    s,
                    format!("is not known (choose one of {})", names.join(", ")),
                )
            })
    }
}

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
    /// The imshow default: from the image's smallest to its largest count.
    pub fn of(grid: &Grid) -> Self {
        let (lo, hi) = grid.min_max();
        LinearScale { lo, hi }
    }

    #[inline]
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
pub fn picture_rows(grid: &Grid) -> impl Iterator<Item = &[u32]> {
    grid.rows().rev()
}

/// An RGB picture of the grid with the given colormap, top row first.
pub fn to_rgb(grid: &Grid, colormap: Colormap) -> Result<Vec<u8>> {
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
pub fn to_grey(grid: &Grid) -> Result<Vec<u8>> {
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
        let t = Colormap::Twilight.lut().0;
        assert_eq!(t[0], t[255], "twilight is cyclic");
    }
}
