//! `--pool processes`: exact, fault tolerant, and leaving no process behind.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{Grid, files_in, mandel, render_npy};

/// Processes whose environment carries `tag`: the render and every worker it started.
fn processes_tagged(tag: &str) -> Vec<u32> {
    let needle = format!("MANDEL_TEST_TAG={tag}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // Zombies have an empty environ; look at their state too. Only orphans count: a
        // zombie whose parent still runs is some concurrent test's child about to be waited
        // for, while a worker its render left unreaped is orphaned once the render exits.
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let tagged = environ.split(|&b| b == 0).any(|v| v == needle.as_bytes());
        if tagged || (stat.contains("(mandel)") && stat.contains(") Z 1 ")) {
            pids.push(pid);
        }
    }
    pids
}

fn tag(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

fn render(
    dir: &Path,
    grid: &Grid,
    tag: &str,
    fault: Option<&str>,
    out: &str,
) -> std::process::Output {
    let mut cmd = mandel();
    cmd.current_dir(dir)
        .env("MANDEL_TEST_TAG", tag)
        .arg("render")
        .args(grid.args())
        .args(["--pool", "processes", "-j", "2", "--quiet", "-o", out]);
    if let Some(f) = fault {
        cmd.env("MANDEL_FAULT", f);
    }
    cmd.output().unwrap()
}

#[test]
fn processes_give_the_sequential_grid_for_every_job_count() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::seed(97, 61, 600);
    let reference = render_npy(dir.path(), &grid, &["--pool", "sequential"]);
    for jobs in ["1", "2", "5"] {
        let got = render_npy(dir.path(), &grid, &["--pool", "processes", "-j", jobs]);
        assert!(
            got == reference,
            "processes -j {jobs} differs from sequential"
        );
    }
}

#[test]
fn a_worker_that_aborts_is_replaced_and_the_grid_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::seed(50, 200, 300);
    let reference = render_npy(dir.path(), &grid, &["--pool", "sequential"]);
    let t = tag("abort-first");
    let out = render(
        dir.path(),
        &grid,
        &t,
        Some("abort-first-worker-after:1"),
        "p.npy",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        crate::util::read_npy(&dir.path().join("p.npy")).1,
        reference
    );
    assert_eq!(
        processes_tagged(&t),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn workers_that_keep_dying_fail_the_render_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    // 13 tasks of 82 rows: more than two workers and three replacements, one task each, can
    // finish.
    let grid = Grid::seed(50, 1066, 300);
    let t = tag("abort-every");
    let out = render(
        dir.path(),
        &grid,
        &t,
        Some("abort-every-worker-after:1"),
        "p.npy",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("mandel:"))
        .collect();
    assert_eq!(ours.len(), 1, "{stderr}");
    assert!(ours[0].contains("keep dying"), "{stderr}");
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
    assert_eq!(
        processes_tagged(&t),
        Vec::<u32>::new(),
        "processes left behind"
    );
}

#[test]
fn an_interrupted_process_pool_leaves_no_worker() {
    let dir = tempfile::tempdir().unwrap();
    let t = tag("sigint");
    let mut child = crate::util::spawn_endless_render(
        dir.path(),
        &[("MANDEL_TEST_TAG", &t)],
        &["--pool", "processes", "-j", "2"],
    );
    // Wait until both workers are running.
    let deadline = Instant::now() + Duration::from_secs(30);
    while processes_tagged(&t).len() < 3 {
        assert!(Instant::now() < deadline, "workers did not start");
        std::thread::yield_now();
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert_eq!(
        processes_tagged(&t),
        Vec::<u32>::new(),
        "workers outlived the render"
    );
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[test]
fn a_worker_fed_garbage_says_so_in_one_line() {
    for input in [&b"GET / HTTP/1.1\r\n\r\n"[..], b"MND", b""] {
        let out = mandel().arg("worker").write_stdin(input).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{input:?}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("bad request from the parent"), "{stderr}");
    }
}

#[test]
fn a_timeout_stops_every_pool_within_half_a_second_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_millis(500);
    for pool in [
        &["--pool", "sequential"][..],
        &["--pool", "threads", "-j", "2"],
        &["--pool", "processes", "-j", "2"],
    ] {
        let t = tag("timeout");
        // One row of four million pixels inside the set, each a million iterations.
        let start = Instant::now();
        let out = mandel()
            .current_dir(dir.path())
            .env("MANDEL_TEST_TAG", &t)
            .args(["render", "--quiet", "--no-shortcuts", "--max-iter=1000000"])
            .args(["--width=4194304", "--height=1", "--xmin=-0.1", "--xmax=0.1"])
            .args([
                "--ymin=-0.01",
                "--ymax=0.01",
                "--timeout=0.5",
                "-o",
                "t.npy",
            ])
            .args(pool)
            .output()
            .unwrap();
        let took = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{pool:?}: {stderr}");
        assert!(stderr.contains("deadline"), "{pool:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{pool:?}: {stderr}");
        assert!(
            took < timeout + Duration::from_millis(500),
            "{pool:?}: {took:?}"
        );
        assert_eq!(files_in(dir.path()), Vec::<String>::new(), "{pool:?}");
        assert_eq!(
            processes_tagged(&t),
            Vec::<u32>::new(),
            "{pool:?}: left behind"
        );
    }
}
