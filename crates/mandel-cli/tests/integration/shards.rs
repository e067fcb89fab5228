//! `render --shard` and `merge`: shards rendered apart merge into the one-machine render.

use std::path::{Path, PathBuf};

use crate::util::{files_in, mandel};

/// The view and size every test here splits: deep enough into the seahorse valley to be
/// uneven.
const JOB: [&str; 5] = [
    "--width=203",
    "--height=151",
    "--center=-0.745,0.11",
    "--zoom=40",
    "--quiet",
];

/// The limit and style of most of them.
const HISTOGRAM: [&str; 3] = ["--max-iter=2000", "--color=histogram", "--colormap=magma"];

/// Renders shards `0..n` of `JOB` (with `extra`) into `dir`, one process each; their paths in
/// a scrambled order.
fn render_shards(dir: &Path, n: u32, extra: &[&str]) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = (0..n)
        .map(|i| {
            let path = dir.join(format!("part-{i}-of-{n}.shard"));
            mandel()
                .arg("render")
                .args(JOB)
                .args(extra)
                .arg(format!("--shard={i}/{n}"))
                .arg("-o")
                .arg(&path)
                .assert()
                .success();
            path
        })
        .collect();
    paths.reverse();
    paths.swap(0, n as usize / 2);
    paths
}

fn render(dir: &Path, name: &str, extra: &[&str]) -> Vec<u8> {
    mandel()
        .current_dir(dir)
        .arg("render")
        .args(JOB)
        .args(extra)
        .args(["-o", name])
        .assert()
        .success();
    std::fs::read(dir.join(name)).unwrap()
}

fn merge(dir: &Path, name: &str, parts: &[PathBuf]) -> Vec<u8> {
    mandel()
        .current_dir(dir)
        .args(["merge", "--quiet", "-o", name])
        .args(parts)
        .assert()
        .success();
    std::fs::read(dir.join(name)).unwrap()
}

fn pixels(picture: &[u8]) -> image::RgbImage {
    image::load_from_memory(picture).unwrap().to_rgb8()
}

#[test]
fn shards_rendered_apart_merge_into_the_one_machine_render() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let parts = render_shards(d, 7, &HISTOGRAM);
    assert_eq!(merge(d, "m.npy", &parts), render(d, "r.npy", &HISTOGRAM));
    assert_eq!(merge(d, "m.pgm", &parts), render(d, "r.pgm", &HISTOGRAM));
    assert_eq!(merge(d, "m.ppm", &parts), render(d, "r.ppm", &HISTOGRAM));
    let (merged, whole) = (merge(d, "m.png", &parts), render(d, "r.png", &HISTOGRAM));
    assert_eq!(pixels(&merged), pixels(&whole));
    // The merged picture carries the job, so it re-renders as any picture does.
    mandel()
        .current_dir(d)
        .args(["render", "--quiet", "--from", "m.png", "-o", "again.png"])
        .assert()
        .success();
    assert_eq!(
        pixels(&std::fs::read(d.join("again.png")).unwrap()),
        pixels(&whole)
    );

    // Smooth colouring and supersampling: the shards hold the samples the colours need.
    let extra = ["--max-iter=500", "--color=smooth", "--supersample=2"];
    let parts = render_shards(d, 3, &extra);
    let merged = merge(d, "s.png", &parts);
    assert_eq!(pixels(&merged), pixels(&render(d, "s-whole.png", &extra)));
}

#[test]
fn a_merge_refuses_a_missing_or_damaged_part_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let parts_dir = d.join("parts");
    std::fs::create_dir(&parts_dir).unwrap();
    let mut parts = render_shards(&parts_dir, 4, &HISTOGRAM);
    parts.sort();
    let damaged = parts_dir.join("damaged.shard");
    let mut bytes = std::fs::read(&parts[1]).unwrap();
    let at = bytes.len() - 30;
    bytes[at] ^= 0x40;
    std::fs::write(&damaged, &bytes).unwrap();
    let truncated = parts_dir.join("truncated.shard");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let other = parts_dir.join("other.shard");
    mandel()
        .args(["render", "--shard=1/4", "--max-iter=2001", "-o"])
        .arg(&other)
        .args(JOB)
        .assert()
        .success();
    let with = |i: usize, part: &Path| {
        let mut p = parts.clone();
        p[i] = part.to_path_buf();
        p
    };
    let cases: Vec<(Vec<PathBuf>, String)> = vec![
        (with(1, &parts[0]), "part-0-of-4.shard overlaps".into()),
        (
            parts[1..].to_vec(),
            "rows = 0..37 are in none of the parts".into(),
        ),
        (with(1, &damaged), "damaged.shard is corrupt".into()),
        (with(1, &truncated), "truncated.shard is truncated".into()),
        (
            with(1, &other),
            "max_iter=2001 here, max_iter=2000 there".into(),
        ),
        (
            vec![parts_dir.join("nowhere.shard")],
            "nowhere.shard".into(),
        ),
    ];
    for (parts, needle) in cases {
        let out = mandel()
            .current_dir(d)
            .args(["merge", "-o", "out.png"])
            .args(&parts)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&needle), "{stderr:?} lacks {needle:?}");
        assert_eq!(files_in(d), ["parts"], "a refused merge left a file");
    }
}
