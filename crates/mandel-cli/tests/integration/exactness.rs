//! The counts equal the seed's own Python on every grid, for every pool and job count.

use crate::util::{Grid, render_npy, seed_counts};

fn grids() -> Vec<Grid> {
    vec![
        // The seed's view, small enough for Python to be quick.
        Grid::seed(48, 32, 1000),
        // Non-square, wider than tall and taller than wide.
        Grid::seed(71, 13, 300),
        Grid::seed(9, 53, 200),
        // One pixel high: the only row is ymin.
        Grid::seed(37, 1, 1000),
        // max-iter 1: every count is 1.
        Grid::seed(20, 10, 1),
        // Seahorse valley, on the set's boundary, with odd edges.
        Grid {
            width: 40,
            height: 30,
            max_iter: 2000,
            xmin: -0.7512,
            xmax: -0.7388,
            ymin: 0.0951,
            ymax: 0.1047,
        },
        // Entirely outside the set, far from the origin, and entirely inside it.
        Grid {
            width: 16,
            height: 16,
            max_iter: 100,
            xmin: 3.0,
            xmax: 7.25,
            ymin: -9.5,
            ymax: -1.0 / 3.0,
        },
        Grid {
            width: 16,
            height: 12,
            max_iter: 500,
            xmin: -0.3,
            xmax: 0.1,
            ymin: -0.2,
            ymax: 0.2,
        },
        // A tiny view, where dx is near the spacing of doubles around the centre.
        Grid {
            width: 20,
            height: 20,
            max_iter: 3000,
            xmin: -1.768_778_833,
            xmax: -1.768_778_830,
            ymin: -0.001_738_996,
            ymax: -0.001_738_993,
        },
    ]
}

#[test]
fn counts_equal_the_seeds_python_on_every_grid() {
    let dir = tempfile::tempdir().unwrap();
    for grid in grids() {
        let expected = seed_counts(&grid);
        assert_eq!(expected.len(), (grid.width * grid.height) as usize);
        let ours = render_npy(dir.path(), &grid, &["--pool", "sequential"]);
        let diff = ours.iter().zip(&expected).position(|(a, b)| a != b);
        assert_eq!(
            diff, None,
            "first difference at flat index {diff:?} on {grid:?}"
        );
    }
}

#[test]
fn the_grid_is_identical_for_every_pool_and_job_count() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::seed(123, 77, 700);
    let reference = render_npy(dir.path(), &grid, &["--pool", "sequential"]);
    for jobs in ["1", "2", "3", "8"] {
        let threads = render_npy(dir.path(), &grid, &["--pool", "threads", "-j", jobs]);
        assert!(
            threads == reference,
            "threads -j {jobs} differs from sequential"
        );
    }
}

#[test]
fn numpy_reads_the_npy_file_as_the_seeds_rows() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::seed(31, 17, 250);
    let path = dir.path().join("seed.npy");
    crate::util::mandel()
        .arg("render")
        .args(grid.args())
        .args(["--quiet", "-o"])
        .arg(&path)
        .assert()
        .success();
    let status = std::process::Command::new("python3")
        .arg(crate::util::seed_script())
        .args(grid.args())
        .arg("--check-npy")
        .arg(&path)
        .status()
        .expect("python3 with numpy must be installed");
    assert!(
        status.success(),
        "numpy.load of our .npy does not equal the seed's rows"
    );
}

#[test]
fn every_kernel_this_cpu_has_gives_the_seeds_counts() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::seed(45, 31, 1000);
    let expected = seed_counts(&grid);
    for kernel in mandel::Kernel::available() {
        let by_flag = render_npy(dir.path(), &grid, &["--kernel", kernel.name()]);
        assert!(
            by_flag == expected,
            "--kernel {kernel} differs from the seed"
        );
    }
    // MANDEL_KERNEL forces one too, and an unavailable or unknown one is refused.
    let by_env = crate::util::mandel()
        .env("MANDEL_KERNEL", "scalar")
        .arg("render")
        .args(grid.args())
        .args(["--format", "npy", "-o", "-"])
        .output()
        .unwrap();
    assert!(by_env.status.success());
    assert!(String::from_utf8_lossy(&by_env.stderr).contains("scalar"));
    let unavailable = mandel::Kernel::ALL
        .into_iter()
        .filter(|k| !k.is_available())
        .map(|k| k.name());
    for name in unavailable.chain(["sse9"]) {
        let out = crate::util::mandel()
            .env("MANDEL_KERNEL", name)
            .args(["render", "-o", "x.png"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(name));
        assert!(
            crate::util::files_in(dir.path())
                .iter()
                .all(|f| f.ends_with(".npy"))
        );
    }
}
