//! Colour options, anti-aliasing and the parameters a picture carries.

use crate::util::{Grid, files_in, mandel, render_npy};

fn render(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    mandel()
        .current_dir(dir)
        .arg("render")
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn from_reproduces_png_and_jpeg_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let styles: &[&[&str]] = &[
        &[],
        &[
            "--center",
            "-0.7436,0.1318",
            "--zoom",
            "400",
            "--color",
            "smooth",
            "--colormap",
            "classic",
            "--cycle",
            "32",
            "--offset",
            "-0.25",
        ],
        &[
            "--xmin=-0.8",
            "--xmax=-0.7",
            "--ymin=0.05",
            "--ymax=0.15",
            "--color",
            "histogram",
            "--colormap",
            "magma",
            "--inside",
            "#102030",
        ],
        &[
            "--max-iter",
            "300",
            "--supersample",
            "3",
            "--colormap",
            "twilight",
            "--cycle",
            "16",
        ],
    ];
    for (i, style) in styles.iter().enumerate() {
        for ext in ["png", "jpg"] {
            let (first, again) = (format!("a{i}.{ext}"), format!("b{i}.{ext}"));
            let mut args = vec!["--width", "96", "--height", "64", "-o", &first];
            args.extend_from_slice(style);
            assert!(render(d, &args).status.success(), "{args:?}");
            // Pool, jobs and kernel do not change pixels; the parameters come from the file.
            let out = render(
                d,
                &[
                    "--from",
                    &first,
                    "--pool",
                    "sequential",
                    "--kernel",
                    "scalar",
                    "-o",
                    &again,
                ],
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let (a, b) = (
                std::fs::read(d.join(&first)).unwrap(),
                std::fs::read(d.join(&again)).unwrap(),
            );
            assert!(a == b, "--from {first} differs");
        }
    }
    // The stored parameters are the real ones: a different style makes a different file.
    assert!(
        render(
            d,
            &[
                "--width",
                "96",
                "--height",
                "64",
                "--colormap",
                "magma",
                "-o",
                "m.png"
            ]
        )
        .status
        .success()
    );
    assert_ne!(
        std::fs::read(d.join("m.png")).unwrap(),
        std::fs::read(d.join("a0.png")).unwrap()
    );
}

#[test]
fn colour_options_never_change_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::seed(40, 30, 200);
    let plain = render_npy(dir.path(), &grid, &[]);
    let styled = render_npy(
        dir.path(),
        &grid,
        &[
            "--color",
            "smooth",
            "--colormap",
            "twilight",
            "--cycle",
            "7",
            "--inside",
            "red",
        ],
    );
    assert_eq!(plain, styled);
}

#[test]
fn supersampled_and_smooth_pictures_have_the_right_size_and_differ() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, extra) in [
        ("plain.png", vec![]),
        ("aa.png", vec!["--supersample", "4"]),
        ("smooth.png", vec!["--color", "smooth"]),
        ("hist.png", vec!["--color", "histogram"]),
    ] {
        let mut args = vec!["--width", "80", "--height", "50", "-o", name];
        args.extend(extra);
        assert!(render(d, &args).status.success());
        let img = image::open(d.join(name)).unwrap();
        assert_eq!((img.width(), img.height()), (80, 50));
    }
    let read = |n: &str| image::open(d.join(n)).unwrap().into_rgb8().into_raw();
    assert_ne!(read("plain.png"), read("aa.png"));
    assert_ne!(read("smooth.png"), read("hist.png"));
    // Histogram colouring spreads the escaped pixels over the palette: many distinct colours.
    let distinct: std::collections::HashSet<_> =
        read("hist.png").chunks(3).map(|p| p.to_vec()).collect();
    assert!(distinct.len() > 30, "{}", distinct.len());
}

#[test]
fn bad_picture_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("plain.png"), b"not a png").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--supersample", "2", "-o", "a.npy"], "--supersample"),
        (&["--supersample", "0", "-o", "a.png"], "'0'"),
        (&["--supersample", "17", "-o", "a.png"], "17"),
        (&["--cycle", "0", "-o", "a.png"], "cycle = 0"),
        (&["--cycle", "-3", "-o", "a.png"], "-3"),
        (&["--color", "rainbow", "-o", "a.png"], "rainbow"),
        (&["--inside", "nocolour", "-o", "a.png"], "nocolour"),
        (&["--from", "plain.png", "-o", "a.png"], "plain.png"),
        (&["--from", "missing.png", "-o", "a.png"], "missing.png"),
        (
            &["--from", "plain.png", "--width", "10", "-o", "a.png"],
            "--width",
        ),
    ];
    for (args, needle) in cases {
        let out = render(d, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(files_in(d), ["plain.png"], "{args:?}");
    }
    // A PNG without parameters (made by someone else) is named as such.
    let img = image::RgbImage::new(4, 4);
    img.save(d.join("other.png")).unwrap();
    let out = render(d, &["--from", "other.png", "-o", "a.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("carries no mandel parameters"));
}
