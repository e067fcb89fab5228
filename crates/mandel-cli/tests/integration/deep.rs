//! Deep zoom from the command line: views past double precision, Kalles Fraktaler's files,
//! and `auto` leaving the doubles' bytes alone where they serve.

use std::path::{Path, PathBuf};

use crate::util::{files_in, mandel, read_npy};

/// Renders `args` (after `render --quiet`) to `name` in `dir`; returns the path.
fn render(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    mandel()
        .args(["render", "--quiet"])
        .args(args)
        .arg("-o")
        .arg(&path)
        .assert()
        .success();
    path
}

fn counts(dir: &Path, name: &str, args: &[&str]) -> Vec<u32> {
    read_npy(&render(dir, name, args)).1
}

const SEAHORSE: &str = "-0.743643887037151,0.131825904205330";

#[test]
fn a_view_past_double_precision_has_its_detail() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let view = [
        "--center",
        SEAHORSE,
        "--width=32",
        "--height=24",
        "--max-iter=5000",
    ];
    let at = |zoom: &str, precision: &str, name: &str| {
        let mut args = view.to_vec();
        args.extend(["--zoom", zoom, "--precision", precision]);
        counts(d, name, &args)
    };
    // Zoom 1e16: doubles step ten pixels at a time across, perturbation sees every pixel.
    let auto = at("1e16", "auto", "auto.npy");
    assert_eq!(auto, at("1e16", "perturbation", "perturbation.npy"));
    let doubles = at("1e16", "double", "double.npy");
    // Direct iteration in arbitrary precision, the ground truth, on the same pixels.
    let direct = at("1e16", "direct", "direct.npy");
    let equal = |c: &[u32]| c.iter().zip(&direct).filter(|(a, b)| a == b).count();
    assert!(
        equal(&auto) * 1000 >= direct.len() * 999,
        "{}",
        equal(&auto)
    );
    assert!(
        equal(&doubles) * 10 < direct.len() * 9,
        "{}",
        equal(&doubles)
    );
    let distinct = |c: &[u32]| c.iter().collect::<std::collections::BTreeSet<_>>().len();
    assert!(distinct(&auto) > 100, "{}", distinct(&auto));
    // Past a double's range entirely: the spiral about c = i, a Misiurewicz point.
    let deep = counts(
        d,
        "deep.npy",
        &[
            "--center",
            "0,1",
            "--zoom",
            "1e400",
            "--width=32",
            "--height=24",
            "--max-iter=5000",
        ],
    );
    assert!(distinct(&deep) > 5, "{}", distinct(&deep));
    // Counts grow with the logarithm of the zoom; the centre pixel is i itself, in the set.
    assert!(deep.iter().all(|&n| n > 1000), "{deep:?}");
    assert_eq!(deep.iter().filter(|&&n| n == 5000).count(), 1);
}

#[test]
fn doubles_forced_past_their_resolution_warn_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = mandel()
        .current_dir(dir.path())
        .args([
            "render",
            "--center",
            SEAHORSE,
            "--zoom",
            "1e15",
            "--precision",
            "double",
        ])
        .args(["--width=16", "--height=12", "--max-iter=500", "-o", "a.png"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("cannot tell this view's pixels apart"),
        "{stderr}"
    );
    // At the seed's view, no warning.
    let out = mandel()
        .current_dir(dir.path())
        .args([
            "render",
            "--precision",
            "double",
            "--width=16",
            "--height=12",
            "-o",
            "b.png",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}

#[test]
fn auto_keeps_the_doubles_bytes_where_they_serve() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for view in [
        vec!["--width=48", "--height=32"],
        vec![
            "--width=48",
            "--height=32",
            "--center",
            SEAHORSE,
            "--zoom",
            "1000",
        ],
        vec![
            "--width=48",
            "--height=32",
            "--xmin=-0.8",
            "--xmax=-0.7",
            "--ymin=0",
            "--ymax=0.1",
        ],
    ] {
        for ext in ["npy", "png"] {
            let mut auto = view.clone();
            auto.extend(["--max-iter=800"]);
            let mut double = auto.clone();
            double.extend(["--precision", "double"]);
            let a = std::fs::read(render(d, &format!("auto.{ext}"), &auto)).unwrap();
            let b = std::fs::read(render(d, &format!("double.{ext}"), &double)).unwrap();
            if ext == "npy" {
                assert_eq!(a, b, "{view:?}");
            } else {
                // The picture's text names the precision only when it was not auto.
                assert_eq!(decode(&a), decode(&b), "{view:?}");
            }
        }
    }
}

fn decode(png: &[u8]) -> Vec<u8> {
    image::load_from_memory(png).unwrap().into_rgb8().into_raw()
}

#[test]
fn a_deep_picture_carries_every_digit_and_renders_again_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let center = "-1.7698847282961017945669868426637803213040917318706093218693,\
                  0.0047663310539024564436975536395683508826064813598416149";
    let first = render(
        d,
        "first.png",
        &[
            "--center",
            center,
            "--zoom",
            "2.5e45",
            "--width=24",
            "--height=16",
            "--max-iter=3000",
        ],
    );
    let again = render(d, "again.png", &["--from", first.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&again).unwrap()
    );
    let text = String::from_utf8_lossy(&std::fs::read(&first).unwrap()).into_owned();
    assert!(text.contains("zoom=2.5e45"), "the zoom as given");
    assert!(text.contains("0.0047663310539024564436975536395683508826064813598416149"));
}

/// Kalles Fraktaler's "1e14" benchmark location, as KF writes its files (CRLF, more keys
/// than a location needs).
const KF_1E14: &str = "Re: -1.759817130804847813610825010561798238243999999999999999999800\r\n\
    Im: -0.012593310799749865383746631843264858450340000000000000000000\r\n\
    Zoom: 1.00e014\r\nIterations: 4036\r\nIterDiv: 0.010000\r\nColorMethod: 7\r\n\
    Differences: 3\r\nColorOffset: 0\r\nRotate: 0.000000\r\nRatio: 360.000000\r\n";

#[test]
fn kalles_fraktaler_locations_are_read_with_their_zoom_converted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let kfr = d.join("1e14.kfr");
    std::fs::write(&kfr, KF_1E14).unwrap();
    let kfr = kfr.to_str().unwrap();
    let size = ["--width=24", "--height=24"];
    let from = counts(d, "kf.npy", &[&["--from", kfr][..], &size].concat());
    // KF's zoom is 2 over half the height: ours is 3.5 H / (4 W) of it.
    let ours = counts(
        d,
        "ours.npy",
        &[
            &size[..],
            &[
                "--center",
                "-1.759817130804847813610825010561798238243999999999999999999800,\
                 -0.012593310799749865383746631843264858450340000000000000000000",
                "--zoom",
                "8.75e13",
                "--max-iter=4036",
            ],
        ]
        .concat(),
    );
    assert_eq!(from, ours);
    // --max-iter overrides the file's Iterations.
    let capped = counts(
        d,
        "capped.npy",
        &[&["--from", kfr, "--max-iter=300"][..], &size].concat(),
    );
    assert!(capped.iter().all(|&n| n <= 300) && capped.contains(&300));
    // The six benchmark locations, where the shared data is laid beside the checkout.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/locations/kf2");
    if let Ok(entries) = std::fs::read_dir(&shared) {
        for entry in entries {
            let path = entry.unwrap().path();
            let args = ["--from", path.to_str().unwrap(), "--width=8", "--height=6"];
            let args = [&args[..], &["--max-iter=200"]].concat();
            let c = counts(d, "bench.npy", &args);
            assert_eq!(c.len(), 48, "{}", path.display());
        }
    }
}

#[test]
fn bad_deep_input_is_named_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("nozoom.kfr"), "Re: 0\r\nIm: 0\r\nIterations: 10\r\n").unwrap();
    std::fs::write(d.join("badre.kfr"), "Re: -1.7x\r\nIm: 0\r\nZoom: 1e5\r\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--center", "-0.75,0.1x", "--zoom", "1e20"],
            "--center = 0.1x is not a number",
        ),
        (
            &["--center", "0,0", "--zoom", "1e2x0"],
            "--zoom = 1e2x0 is not a number",
        ),
        (
            &["--center", "0,0", "--zoom", "-1e400"],
            "--zoom = -1e400 must be greater than 0",
        ),
        (
            &["--center", "0,0", "--zoom", "0e1000"],
            "--zoom = 0e1000 must be greater than 0",
        ),
        (
            &["--center", "0,0", "--zoom", "1e70000"],
            "bits of precision",
        ),
        (&["--precision", "exact"], "precision = exact is not known"),
        (&["--from", "nozoom.kfr"], "nozoom.kfr has no Zoom: line"),
        (
            &["--from", "badre.kfr"],
            "has Re: -1.7x, which is not a number",
        ),
        (&["--from", "missing.kfr"], "missing.kfr"),
    ];
    for (args, needle) in cases {
        let out = mandel()
            .current_dir(d)
            .arg("render")
            .args(*args)
            .args(["-o", "out.png"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        let left: Vec<String> = files_in(d)
            .into_iter()
            .filter(|f| !f.ends_with(".kfr"))
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}
