//! Helpers shared by the integration tests: run `mandel`, run the seed's Python, read outputs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `mandel` binary under test.
pub fn mandel() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("mandel").expect("mandel binary")
}

/// The Python 3 port of the seed (python/seed.py in the repository).
pub fn seed_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/seed.py")
}

/// A grid as both programs take it on their command lines.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub width: u32,
    pub height: u32,
    pub max_iter: u32,
    pub xmin: f64,
    pub xmax: f64,
    pub ymin: f64,
    pub ymax: f64,
}

impl Grid {
    pub fn seed(width: u32, height: u32, max_iter: u32) -> Self {
        Grid {
            width,
            height,
            max_iter,
            xmin: -2.5,
            xmax: 1.0,
            ymin: -1.0,
            ymax: 1.0,
        }
    }

    /// The options, spelled the same for `mandel render` and `seed.py`. `{:?}` prints an f64
    /// with enough digits to read back the same double.
    pub fn args(&self) -> Vec<String> {
        vec![
            format!("--width={}", self.width),
            format!("--height={}", self.height),
            format!("--max-iter={}", self.max_iter),
            format!("--xmin={:?}", self.xmin),
            format!("--xmax={:?}", self.xmax),
            format!("--ymin={:?}", self.ymin),
            format!("--ymax={:?}", self.ymax),
        ]
    }
}

/// The seed's counts for `grid`, row 0 (ymin) first, computed by the seed's own Python.
pub fn seed_counts(grid: &Grid) -> Vec<u32> {
    let out = Command::new("python3")
        .arg(seed_script())
        .args(grid.args())
        .output()
        .expect("python3 must be installed to check exactness against the seed");
    assert!(
        out.status.success(),
        "seed.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Reads a `.npy` file of `<u4` counts: (shape, values in C order).
pub fn read_npy(path: &Path) -> (Vec<u64>, Vec<u32>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.dtype(), npyz::DType::Plain("<u4".parse().unwrap()));
    assert_eq!(npy.order(), npyz::Order::C);
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<u32>().unwrap())
}

/// Renders `grid` to a `.npy` file with extra options and returns its counts.
pub fn render_npy(dir: &Path, grid: &Grid, extra: &[&str]) -> Vec<u32> {
    let path = dir.join(format!("counts-{}.npy", unique()));
    mandel()
        .arg("render")
        .args(grid.args())
        .args(extra)
        .arg("--quiet")
        .arg("-o")
        .arg(&path)
        .assert()
        .success();
    let (shape, counts) = read_npy(&path);
    assert_eq!(shape, [u64::from(grid.height), u64::from(grid.width)]);
    counts
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Files in `dir`, by name.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Starts `mandel render` on a job that outlasts any test (the scalar kernel, which takes no
/// shortcut, on a view wholly inside the set at max-iter 10^6), writing `big.png` in `dir`,
/// with `extra` options; the caller interrupts it.
pub fn spawn_endless_render(
    dir: &Path,
    envs: &[(&str, &str)],
    extra: &[&str],
) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("mandel"))
        .current_dir(dir)
        .envs(envs.iter().copied())
        .args(["render", "--quiet", "--kernel", "scalar", "--no-shortcuts"])
        .args(["--width=2000", "--height=2000", "--max-iter=1000000"])
        .args([
            "--xmin=-0.2",
            "--xmax=0.2",
            "--ymin=-0.2",
            "--ymax=0.2",
            "-o",
            "big.png",
        ])
        .args(extra)
        .spawn()
        .expect("start mandel")
}
