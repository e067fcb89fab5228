//! Every output format: shape, values and orientation, read back with independent decoders.

use std::path::Path;

use mandel::Colormap;
use mandel::color::LinearScale;

use crate::util::{Grid, mandel, read_npy, render_npy};

/// A view whose bottom rows (ymin) cross the set and whose top rows (ymax) are far outside,
/// so that a picture drawn upside down cannot pass.
fn lopsided() -> Grid {
    Grid {
        width: 50,
        height: 30,
        max_iter: 200,
        xmin: -2.0,
        xmax: 0.5,
        ymin: -0.3,
        ymax: 3.0,
    }
}

fn render_to(dir: &Path, grid: &Grid, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let path = dir.join(name);
    mandel()
        .arg("render")
        .args(grid.args())
        .args(extra)
        .args(["--quiet", "-o"])
        .arg(&path)
        .assert()
        .success();
    path
}

/// The counts as a picture shows them: picture row y is grid row height-1-y.
fn count_at_picture(counts: &[u32], grid: &Grid, x: u32, y: u32) -> u32 {
    counts[((grid.height - 1 - y) * grid.width + x) as usize]
}

#[test]
fn png_shows_ymax_on_top_through_the_colormap() {
    let dir = tempfile::tempdir().unwrap();
    let grid = lopsided();
    let counts = render_npy(dir.path(), &grid, &[]);
    let scale = LinearScale::of(
        &mandel::Grid::from_counts(grid.width, grid.height, counts.clone()).unwrap(),
    );
    for cmap in [Colormap::Viridis, Colormap::Twilight] {
        let png = render_to(dir.path(), &grid, "p.png", &["--colormap", cmap.name()]);
        let img = image::open(&png).unwrap().into_rgb8();
        assert_eq!(img.dimensions(), (grid.width, grid.height));
        let lut = cmap.lut().0;
        for (x, y, px) in img.enumerate_pixels() {
            let c = count_at_picture(&counts, &grid, x, y);
            assert_eq!(
                px.0,
                lut[scale.level(c) as usize],
                "pixel ({x}, {y}) with {cmap}"
            );
        }
        if cmap == Colormap::Twilight {
            continue; // cyclic: its top colour is also its bottom one
        }
        // The set (max count, top of the map) is in the bottom half only.
        let top = lut[255];
        let rows_with_set: Vec<u32> = (0..grid.height)
            .filter(|&y| (0..grid.width).any(|x| img.get_pixel(x, y).0 == top))
            .collect();
        assert!(!rows_with_set.is_empty());
        assert!(
            rows_with_set.iter().all(|&y| y > grid.height / 2),
            "{rows_with_set:?}"
        );
    }
}

#[test]
fn ppm_equals_png_and_pgm_is_the_scaled_counts() {
    let dir = tempfile::tempdir().unwrap();
    let grid = lopsided();
    let counts = render_npy(dir.path(), &grid, &[]);
    let scale = LinearScale::of(
        &mandel::Grid::from_counts(grid.width, grid.height, counts.clone()).unwrap(),
    );

    let png = image::open(render_to(dir.path(), &grid, "a.png", &[]))
        .unwrap()
        .into_rgb8();
    let ppm = std::fs::read(render_to(dir.path(), &grid, "a.ppm", &[])).unwrap();
    // P6, a comment with the parameters, size, depth, then the pixels.
    let comment_end = ppm.iter().skip(3).position(|&b| b == b'\n').unwrap() + 4;
    assert!(ppm.starts_with(b"P6\n# mandel "));
    let header = format!("{} {}\n255\n", grid.width, grid.height);
    assert!(ppm[comment_end..].starts_with(header.as_bytes()));
    assert_eq!(&ppm[comment_end + header.len()..], png.as_raw().as_slice());

    let pgm = std::fs::read(render_to(dir.path(), &grid, "a.pgm", &[])).unwrap();
    let header = format!("P5\n{} {}\n255\n", grid.width, grid.height);
    assert!(pgm.starts_with(header.as_bytes()));
    let levels = &pgm[header.len()..];
    assert_eq!(levels.len(), (grid.width * grid.height) as usize);
    for y in 0..grid.height {
        for x in 0..grid.width {
            let expected = scale.level(count_at_picture(&counts, &grid, x, y));
            assert_eq!(levels[(y * grid.width + x) as usize], expected);
        }
    }
}

#[test]
fn pbm_marks_the_pixels_that_reached_max_iter() {
    let dir = tempfile::tempdir().unwrap();
    let grid = lopsided();
    let counts = render_npy(dir.path(), &grid, &[]);
    let pbm = std::fs::read(render_to(dir.path(), &grid, "a.pbm", &[])).unwrap();
    let header = format!("P4\n{} {}\n", grid.width, grid.height);
    assert!(pbm.starts_with(header.as_bytes()));
    let bits = &pbm[header.len()..];
    let stride = grid.width.div_ceil(8);
    assert_eq!(bits.len() as u32, stride * grid.height);
    let mut inside = 0;
    for y in 0..grid.height {
        for x in 0..grid.width {
            let bit = bits[(y * stride + x / 8) as usize] >> (7 - x % 8) & 1;
            let reached = count_at_picture(&counts, &grid, x, y) == grid.max_iter;
            assert_eq!(bit == 1, reached, "pixel ({x}, {y})");
            inside += u32::from(reached);
        }
    }
    assert!(
        inside > 0,
        "the view must cross the set for this test to mean anything"
    );
}

#[test]
fn jpeg_decodes_with_the_right_size() {
    let dir = tempfile::tempdir().unwrap();
    let grid = lopsided();
    for name in ["a.jpg", "a.jpeg"] {
        let img = image::open(render_to(dir.path(), &grid, name, &[])).unwrap();
        assert_eq!((img.width(), img.height()), (grid.width, grid.height));
    }
}

#[test]
fn stdout_output_equals_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let grid = lopsided();
    let file = std::fs::read(render_to(dir.path(), &grid, "a.npy", &[])).unwrap();
    let out = mandel()
        .arg("render")
        .args(grid.args())
        .args(["--quiet", "--format", "npy", "-o", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, file);
    // --format overrides the extension.
    let forced = render_to(dir.path(), &grid, "counts.dat", &["--format", "npy"]);
    assert_eq!(read_npy(&forced).1, read_npy(&dir.path().join("a.npy")).1);
}

#[test]
fn center_and_zoom_name_the_same_grid_as_its_edges() {
    let dir = tempfile::tempdir().unwrap();
    let via_center = dir.path().join("c.npy");
    mandel()
        .args([
            "render",
            "--width",
            "40",
            "--height",
            "20",
            "--max-iter",
            "300",
        ])
        .args(["--center", "-0.75,0", "--zoom", "1", "--quiet", "-o"])
        .arg(&via_center)
        .assert()
        .success();
    let edges = Grid {
        width: 40,
        height: 20,
        max_iter: 300,
        xmin: -2.5,
        xmax: 1.0,
        ymin: -0.875,
        ymax: 0.875,
    };
    assert_eq!(read_npy(&via_center).1, render_npy(dir.path(), &edges, &[]));
}

#[test]
fn summary_line_reports_size_and_iterations() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::seed(20, 10, 50);
    let counts = render_npy(dir.path(), &grid, &[]);
    let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    let out = mandel()
        .arg("render")
        .args(grid.args())
        .arg("-o")
        .arg(dir.path().join("s.png"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("20x10 max-iter 50"), "{stderr}");
    let total = total.to_string();
    let grouped: String = total
        .chars()
        .rev()
        .collect::<Vec<_>>()
        .chunks(3)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(",")
        .chars()
        .rev()
        .collect();
    assert!(
        stderr.contains(&format!("{grouped} iterations")),
        "{stderr}"
    );
}
