//! File formats, and writing them atomically.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use image::{ExtendedColorType, ImageEncoder};

use crate::color;
use crate::error::{Error, Field, Result};
use crate::grid::Grid;
use crate::render::{Engine, Params, RowOrder, render_in_order};

/// Output formats. Pictures (PNG, JPEG, PPM, PGM, PBM) have `ymax` on their top row; `.npy`
/// keeps the grid's row order (row 0 is `ymin`), as the seed's list of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG, 8-bit RGB, the parameters in a tEXt chunk.
    Png,
    /// JPEG at quality 92, the parameters in a comment.
    Jpeg,
    /// Netpbm P6: the colormapped picture.
    Ppm,
    /// Netpbm P5: counts scaled linearly to 256 grey levels.
    Pgm,
    /// Netpbm P4: 1 (black) where the pixel reached max-iter, i.e. is taken to be in the set.
    Pbm,
    /// numpy's format: dtype `<u4`, shape (height, width), C order, the exact counts.
    Npy,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 6] = [
        Format::Png,
        Format::Jpeg,
        Format::Ppm,
        Format::Pgm,
        Format::Pbm,
        Format::Npy,
    ];

    /// The format's name, as `--format` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Ppm => "ppm",
            Format::Pgm => "pgm",
            Format::Pbm => "pbm",
            Format::Npy => "npy",
        }
    }

    /// Whether colour options apply (everything but the raw counts and the 1-bit map).
    pub fn uses_colormap(self) -> bool {
        matches!(self, Format::Png | Format::Jpeg | Format::Ppm)
    }

    /// The format named by a path's extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext.is_empty() {
            return Err(Error::invalid(
                Field::Output,
                path.display(),
                "has no extension to tell its format (add one, or pass --format)",
            ));
        }
        ext.parse()
            .map_err(|_| Error::invalid(Field::Output, path.display(), unknown_format_reason(ext)))
    }

    /// The media type of a response holding this format.
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Ppm | Format::Pgm | Format::Pbm => "image/x-portable-anymap",
            Format::Npy => "application/octet-stream",
        }
    }
}

fn unknown_format_reason(ext: &str) -> String {
    let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
    format!(
        "has an unknown format '{ext}' (choose one of {})",
        names.join(", ")
    )
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "png" => Ok(Format::Png),
            "jpeg" | "jpg" => Ok(Format::Jpeg),
            "ppm" => Ok(Format::Ppm),
            "pgm" => Ok(Format::Pgm),
            "pbm" => Ok(Format::Pbm),
            "npy" => Ok(Format::Npy),
            _ => Err(Error::invalid(
                Field::Format,
                s,
                format!(
                    "is not known (choose one of {})",
                    Format::ALL.map(Format::name).join(", ")
                ),
            )),
        }
    }
}

/// Writes the formats made from the counts themselves: npy, pbm, pgm.
pub(crate) fn write_counts(
    grid: &Grid,
    format: Format,
    max_iter: u32,
    out: impl Write,
) -> Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let (w, h) = (grid.width(), grid.height());
    match format {
        Format::Pgm => {
            let grey = color::to_grey(grid)?;
            write!(out, "P5\n{w} {h}\n255\n").map_err(Error::Write)?;
            out.write_all(&grey).map_err(Error::Write)?;
        }
        Format::Pbm => write_pbm(grid, max_iter, &mut out).map_err(Error::Write)?,
        Format::Npy => write_npy(grid, &mut out).map_err(Error::Write)?,
        Format::Png | Format::Jpeg | Format::Ppm => {
            panic!("{format} is a picture format: use write_picture")
        }
    }
    out.flush().map_err(Error::Write)
}

/// The keyword of the PNG text chunk that carries a picture's parameters.
const PARAMS_KEYWORD: &str = "mandel";

/// Writes an RGB picture (top row first) as PNG, JPEG or PPM. `params`, if given, is stored
/// in the file: a PNG tEXt chunk with keyword [`PARAMS_KEYWORD`], a JPEG comment, a PPM
/// header comment (one line).
pub(crate) fn write_picture(
    rgb: &[u8],
    width: u32,
    height: u32,
    format: Format,
    params: Option<&str>,
    out: impl Write,
) -> Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    match format {
        Format::Png => {
            let encoder = png_encoder(&mut out, width, height, params)?;
            let mut writer = encoder.write_header().map_err(png_error)?;
            writer.write_image_data(rgb).map_err(png_error)?;
            writer.finish().map_err(png_error)?;
        }
        Format::Jpeg => {
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92)
                .write_image(rgb, width, height, ExtendedColorType::Rgb8)
                .map_err(|e| image_error("jpeg", e))?;
            let jpeg = match params {
                Some(text) => with_jpeg_comment(&jpeg, text)?,
                None => jpeg,
            };
            out.write_all(&jpeg).map_err(Error::Write)?;
        }
        Format::Ppm => {
            write_ppm_header(&mut out, width, height, params).map_err(Error::Write)?;
            out.write_all(rgb).map_err(Error::Write)?;
        }
        Format::Pgm | Format::Pbm | Format::Npy => {
            panic!("{format} is made from counts: use write_counts")
        }
    }
    out.flush().map_err(Error::Write)
}

/// A PPM's header, with `params` as a comment line.
pub(crate) fn write_ppm_header(
    out: &mut impl Write,
    width: u32,
    height: u32,
    params: Option<&str>,
) -> io::Result<()> {
    writeln!(out, "P6")?;
    if let Some(text) = params {
        writeln!(out, "# {}", text.replace('\n', " "))?;
    }
    write!(out, "{width} {height}\n255\n")
}

/// The PNG encoder of every picture: 8-bit RGB, fast compression, `params` in a tEXt chunk.
pub(crate) fn png_encoder<W: Write>(
    out: W,
    width: u32,
    height: u32,
    params: Option<&str>,
) -> Result<png::Encoder<'static, W>> {
    let mut encoder = png::Encoder::new(out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    if let Some(text) = params {
        encoder
            .add_text_chunk(PARAMS_KEYWORD.into(), text.into())
            .map_err(png_error)?;
    }
    Ok(encoder)
}

pub(crate) fn png_error(e: png::EncodingError) -> Error {
    match e {
        png::EncodingError::IoError(io) => Error::Write(io),
        other => Error::Encode {
            format: "png",
            message: other.to_string(),
        },
    }
}

/// Inserts a COM segment right after the SOI marker.
fn with_jpeg_comment(jpeg: &[u8], text: &str) -> Result<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.len() > 65533 || !jpeg.starts_with(&[0xFF, 0xD8]) {
        return Err(Error::Encode {
            format: "jpeg",
            message: "cannot add the parameters comment".into(),
        });
    }
    let mut out = Vec::with_capacity(jpeg.len() + bytes.len() + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((bytes.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(bytes);
    out.extend_from_slice(&jpeg[2..]);
    Ok(out)
}

/// The parameters a picture written by [`write_picture`] carries, if any: from a PNG's tEXt
/// chunk or a JPEG's comment.
pub(crate) fn read_picture_params(path: &Path) -> Result<Option<String>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.starts_with(b"\x89PNG") {
        let reader = png::Decoder::new(io::Cursor::new(&bytes))
            .read_info()
            .map_err(|e| {
                Error::invalid(
                    Field::From,
                    path.display(),
                    format!("is not a readable PNG: {e}"),
                )
            })?;
        return Ok(reader
            .info()
            .uncompressed_latin1_text
            .iter()
            .find(|t| t.keyword == PARAMS_KEYWORD)
            .map(|t| t.text.clone()));
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        // Walk the marker segments before the image data, looking for a comment.
        let mut i = 2;
        while i + 4 <= bytes.len() && bytes[i] == 0xFF {
            let marker = bytes[i + 1];
            let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
            if marker == 0xDA || i + 2 + len > bytes.len() || len < 2 {
                break;
            }
            if marker == 0xFE {
                return Ok(Some(
                    String::from_utf8_lossy(&bytes[i + 4..i + 2 + len]).into_owned(),
                ));
            }
            i += 2 + len;
        }
        return Ok(None);
    }
    Err(Error::invalid(
        Field::From,
        path.display(),
        "is neither a PNG nor a JPEG",
    ))
}

fn image_error(format: &'static str, e: image::ImageError) -> Error {
    match e {
        image::ImageError::IoError(io) => Error::Write(io),
        other => Error::Encode {
            format,
            message: other.to_string(),
        },
    }
}

/// Streams the bitmap row by row: no buffer beyond one packed row.
fn write_pbm(grid: &Grid, max_iter: u32, out: &mut impl Write) -> io::Result<()> {
    write!(out, "P4\n{} {}\n", grid.width(), grid.height())?;
    let mut packed = vec![0u8; (grid.width() as usize).div_ceil(8)];
    for row in color::picture_rows(grid) {
        pack_pbm_row(row, max_iter, &mut packed);
        out.write_all(&packed)?;
    }
    Ok(())
}

/// One PBM line: a set bit (black) for each point in the set.
pub(crate) fn pack_pbm_row(row: &[u32], max_iter: u32, packed: &mut [u8]) {
    // Without a branch per pixel: which pixels are black is as unpredictable as the picture.
    // Whole bytes as 8 compares gathered into a mask (one vector compare where the compiler
    // finds one), the first pixel ending in the high bit; then the partial last byte.
    let whole = row.chunks_exact(8);
    let rest = whole.remainder();
    for (byte, pixels) in packed.iter_mut().zip(whole) {
        let mask = (0..8).fold(0u8, |b, i| b | u8::from(pixels[i] >= max_iter) << i);
        *byte = mask.reverse_bits();
    }
    if !rest.is_empty() {
        packed[row.len() / 8] = rest
            .iter()
            .enumerate()
            .fold(0, |b, (i, &c)| b | u8::from(c >= max_iter) << (7 - i));
    }
}

/// Renders `params` straight into a PBM on `out`, bands written as they are finished (top
/// line first), so the count grid is never held: memory stays at a few bands per thread
/// whatever the size. The bytes are those of [`write_counts`] with [`Format::Pbm`].
/// `on_pixels` hears of every band written (for a progress bar). Returns the total iterations
/// and those the kernels' shortcuts skipped.
pub(crate) fn stream_pbm(
    params: &Params,
    engine: &Engine,
    out: impl Write + Send,
    on_pixels: &(dyn Fn(u64) + Sync),
) -> Result<(u64, u64)> {
    let vp = &params.viewport;
    let width = vp.width() as usize;
    let mut out = BufWriter::with_capacity(1 << 16, out);
    write!(out, "P4\n{} {}\n", vp.width(), params.rows.len()).map_err(Error::Write)?;
    // A band is whole rows, or a stretch of a row wider than WIDE_ROW: never more bits than
    // the shorter of the two.
    let mut packed = vec![0u8; width.min(crate::tuning::WIDE_ROW).div_ceil(8)];
    let total = render_in_order(params, engine, RowOrder::TopFirst, &mut |band| {
        let start = (band.first % width as u64) as usize;
        if start == 0 && band.values.len() % width == 0 {
            // Whole rows come top first; the rows inside a band ascend, so they are written
            // reversed.
            for row in band.values.chunks_exact(width).rev() {
                pack_pbm_row(row, params.max_iter, &mut packed);
                out.write_all(&packed).map_err(Error::Write)?;
            }
        } else {
            // A stretch of a wide row, from its first column on: stretches start on a byte
            // (a multiple of 8 pixels), so their bytes join into the row's.
            debug_assert!(start.is_multiple_of(8));
            let bytes = band.values.len().div_ceil(8);
            pack_pbm_row(band.values, params.max_iter, &mut packed[..bytes]);
            out.write_all(&packed[..bytes]).map_err(Error::Write)?;
        }
        on_pixels(band.pixels());
        Ok(())
    })?;
    out.flush().map_err(Error::Write)?;
    Ok(total)
}

fn write_npy(grid: &Grid, out: &mut impl Write) -> io::Result<()> {
    use npyz::WriterBuilder;
    let mut writer = npyz::WriteOptions::<u32>::new()
        .default_dtype()
        .shape(&[u64::from(grid.height()), u64::from(grid.width())])
        .writer(out)
        .begin_nd()?;
    writer.extend(grid.counts().iter().copied())?;
    writer.finish()
}

/// A file that appears at its path only when complete: written under a temporary name in the
/// same folder, renamed over the target by [`AtomicFile::commit`], removed if dropped.
pub struct AtomicFile {
    target: PathBuf,
    temp: tempfile::NamedTempFile,
}

impl AtomicFile {
    /// Creates the temporary file now, so that an unwritable folder is reported before any
    /// work is done.
    pub fn create(target: impl Into<PathBuf>) -> Result<Self> {
        let target = target.into();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if target.is_dir() {
            return Err(Error::io(
                &target,
                io::Error::new(io::ErrorKind::IsADirectory, "is a directory"),
            ));
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(".mandel-").suffix(".partial");
        // Temporary files are private (0600) by default; the finished file should get the
        // permissions any new file gets (0666 less the umask).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&target, e))?;
        Ok(AtomicFile { target, temp })
    }

    /// Where the bytes go until the commit (for clean-up on a signal).
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// The file being written.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.temp.as_file_mut()
    }

    /// Flushes the data to disk and renames the file into place.
    pub fn commit(self) -> Result<()> {
        self.temp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io(&self.target, e))?;
        let target = self.target;
        self.temp
            .persist(&target)
            .map_err(|e| Error::io(&target, e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_pbm_equals_one_written_from_the_grid() {
        use crate::Pool;
        use mandel_kernel::{Kernel, Viewport};
        // A width that is not a multiple of 8, and rows that do not divide into whole tasks;
        // then rows wide enough to be cut into stretches.
        for (width, height) in [(1001, 37), (2 * crate::tuning::WIDE_ROW as u32 + 13, 5)] {
            let params = Params::new(Viewport::seed(width, height).unwrap(), 60).unwrap();
            let (grid, _) = crate::render::render(&params, &Engine::default(), &|_| {}).unwrap();
            let mut expected = Vec::new();
            write_counts(&grid, Format::Pbm, 60, &mut expected).unwrap();
            for pool in [Pool::Sequential, Pool::all_cores()] {
                let pixels = std::sync::atomic::AtomicU64::new(0);
                let mut streamed = Vec::new();
                let (total, _) = stream_pbm(
                    &params,
                    &Engine::new(pool.clone(), Kernel::best()),
                    &mut streamed,
                    &|n| {
                        pixels.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                    },
                )
                .unwrap();
                assert_eq!(streamed, expected, "{pool:?} {width}");
                assert_eq!(total, grid.total_iterations());
                assert_eq!(pixels.into_inner(), params.pixels());
            }
        }
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(Format::from_path(Path::new("a.PNG")).unwrap(), Format::Png);
        assert_eq!(Format::from_path(Path::new("a.jpg")).unwrap(), Format::Jpeg);
        assert_eq!(
            Format::from_path(Path::new("x/a.npy")).unwrap(),
            Format::Npy
        );
        let e = Format::from_path(Path::new("a.gif"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a.gif") && e.contains("'gif'"), "{e}");
        assert!(Format::from_path(Path::new("noext")).is_err());
    }

    #[test]
    fn pbm_marks_pixels_that_reached_max_iter_top_row_first() {
        // Row 0 (ymin) has the in-set pixel at column 0; the picture shows it on the bottom.
        let grid = Grid::from_counts(
            9,
            2,
            vec![5, 1, 1, 1, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        )
        .unwrap();
        let mut out = Vec::new();
        write_pbm(&grid, 5, &mut out).unwrap();
        assert_eq!(out, b"P4\n9 2\n\x00\x00\x80\x80");
    }

    #[test]
    fn atomic_file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        let mut f = AtomicFile::create(&target).unwrap();
        f.file().write_all(b"abc").unwrap();
        assert!(!target.exists());
        f.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"abc");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let plain = dir.path().join("plain");
            std::fs::File::create(&plain).unwrap();
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&target), mode(&plain));
            std::fs::remove_file(plain).unwrap();
        }

        let f = AtomicFile::create(dir.path().join("dropped.bin")).unwrap();
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
