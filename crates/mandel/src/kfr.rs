//! Kalles Fraktaler 2's location and parameter files (`.kfr`): `Key: value` lines, of which a
//! location needs `Re`, `Im` and `Zoom`, and may give `Iterations`; every other key (colours,
//! KF's own settings) is ignored.
//!
//! KF's zoom is 2 over half the picture's height: a KF view is `4 / Zoom` high, its width
//! following the aspect ratio (Fraktaler 3, by KF2+'s maintainer, reads the same files with
//! the same convention). Ours is `3.5 / zoom` wide, so for a `W` × `H` picture
//! `zoom = Zoom · 3.5 · H / (4 · W)`: 0.875 times KF's for a square one.

use std::path::Path;

use mandel_deep::Real;

use crate::error::{Error, Field, Result};
use crate::view::View;

/// A location read from a `.kfr` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KfLocation {
    /// The centre's real part, as written.
    pub re: String,
    /// The centre's imaginary part, as written.
    pub im: String,
    /// KF's zoom, as written (see the module's documentation for its meaning).
    pub zoom: String,
    /// KF's iteration limit, if the file gives one.
    pub iterations: Option<u32>,
}

impl KfLocation {
    /// Reads the location in the `.kfr` file at `path`; the error names the file and what is
    /// missing or malformed.
    pub fn read(path: &Path) -> Result<KfLocation> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        KfLocation::parse(&String::from_utf8_lossy(&bytes))
            .map_err(|reason| Error::invalid(Field::From, path.display(), reason))
    }

    /// The location in a `.kfr` file's text; the error is the end of a sentence about the
    /// file.
    pub fn parse(text: &str) -> std::result::Result<KfLocation, String> {
        let value = |key: &str| {
            text.lines().find_map(|line| {
                let (k, v) = line.split_once(':')?;
                (k.trim() == key).then(|| v.trim().to_string())
            })
        };
        let need = |key: &str| value(key).ok_or_else(|| format!("has no {key}: line"));
        let (re, im, zoom) = (need("Re")?, need("Im")?, need("Zoom")?);
        for (key, v) in [("Re", &re), ("Im", &im), ("Zoom", &zoom)] {
            if Real::parse(v, 64).is_err() {
                return Err(format!("has {key}: {v}, which is not a number"));
            }
        }
        let iterations = match value("Iterations") {
            None => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("has Iterations: {v}, which is not a whole number"))?,
            ),
        };
        Ok(KfLocation {
            re,
            im,
            zoom,
            iterations,
        })
    }

    /// Our view of this location for a `width` × `height` picture: the same centre, and the
    /// zoom that shows what KF shows at that size.
    pub fn view(&self, width: u32, height: u32) -> Result<View> {
        let bits = 128;
        let kf = Real::parse(&self.zoom, bits)
            .map_err(|_| Error::invalid(Field::Zoom, &self.zoom, "is not a number"))?;
        let factor = Real::from_f64(3.5 * f64::from(height), bits)
            .div(&Real::from_f64(4.0 * f64::from(width.max(1)), bits), bits);
        let zoom = kf.mul(&factor, bits);
        let mut view = View::default();
        view.set(Field::Center, &format!("{},{}", self.re, self.im))?;
        view.set(Field::Zoom, &zoom.to_decimal(17))?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_kf_file_gives_its_location() {
        let text = "Re: -1.75\r\nIm: 0.0125\r\nZoom: 1.00e014\r\nIterations: 4036\r\n\
                    IterDiv: 1.000000\r\nColorMethod: 7\r\n";
        let loc = KfLocation::parse(text).unwrap();
        assert_eq!((loc.re.as_str(), loc.im.as_str()), ("-1.75", "0.0125"));
        assert_eq!(loc.iterations, Some(4036));
        let view = loc.view(1024, 1024).unwrap();
        let canonical = view.canonical_pairs(1024, 1024, true).unwrap();
        assert_eq!(canonical[1].1, "8.75e13");
        // Twice as wide: the same height in the plane, so half our zoom.
        let wide = loc.view(2048, 1024).unwrap();
        assert_eq!(
            wide.canonical_pairs(2048, 1024, true).unwrap()[1].1,
            "4.375e13"
        );
    }

    #[test]
    fn a_file_without_its_location_is_refused() {
        for (text, needle) in [
            ("Im: 0\nZoom: 1\n", "has no Re: line"),
            ("Re: 0\nZoom: 1\n", "has no Im: line"),
            ("Re: 0\nIm: 0\n", "has no Zoom: line"),
            (
                "Re: x\nIm: 0\nZoom: 1\n",
                "has Re: x, which is not a number",
            ),
            (
                "Re: 0\nIm: 0\nZoom: 1\nIterations: -5\n",
                "has Iterations: -5",
            ),
        ] {
            let err = KfLocation::parse(text).unwrap_err();
            assert!(err.starts_with(needle), "{err}");
        }
    }
}
