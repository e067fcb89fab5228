//! Bad input: one line on stderr naming the bad value, exit status 2, no file, no panic.

use std::path::Path;

use crate::util::{files_in, mandel};

fn assert_refused(dir: &Path, args: &[&str], needle: &str) {
    let out = mandel().current_dir(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(
        stderr.contains(needle),
        "{args:?}: {stderr:?} does not name {needle:?}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert_eq!(files_in(dir), Vec::<String>::new(), "{args:?} left a file");
}

#[test]
fn bad_values_are_named_and_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: &[(&[&str], &str)] = &[
        (&["render", "--width", "0", "-o", "a.png"], "'0'"),
        (&["render", "--height", "-3", "-o", "a.png"], "-3"),
        (&["render", "--width", "ten", "-o", "a.png"], "'ten'"),
        (&["render", "--max-iter", "0", "-o", "a.png"], "--max-iter"),
        (
            &["render", "--xmin", "1", "--xmax", "1", "-o", "a.png"],
            "xmin = 1",
        ),
        (&["render", "--xmin", "2", "-o", "a.png"], "xmin = 2"),
        (
            &["render", "--ymin", "0.5", "--ymax", "-0.5", "-o", "a.png"],
            "ymin = 0.5",
        ),
        (&["render", "--xmin", "NaN", "-o", "a.png"], "xmin = NaN"),
        (&["render", "--ymax", "inf", "-o", "a.png"], "ymax = inf"),
        (
            &["render", "--xmin=-1e308", "--xmax=1e308", "-o", "a.png"],
            "xmax - xmin",
        ),
        (&["render", "--zoom", "0", "-o", "a.png"], "zoom = 0"),
        (&["render", "--center", "1;2", "-o", "a.png"], "1;2"),
        (
            &["render", "--center", "0,0", "--xmin", "-1", "-o", "a.png"],
            "--xmin",
        ),
        (&["render", "-o", "a.gif"], "gif"),
        (&["render", "-o", "noextension"], "noextension"),
        (&["render", "--format", "tiff", "-o", "a.png"], "tiff"),
        (&["render", "-o", "-"], "--format"),
        (&["render", "--colormap", "jet", "-o", "a.png"], "jet"),
        (&["render", "--pool", "fibers", "-o", "a.png"], "fibers"),
        (&["render", "-j", "0", "-o", "a.png"], "'0'"),
        (
            // (Held whole in a process pool's grid; on threads it would stream, to the disk.)
            &[
                "render",
                "--width",
                "200000",
                "--height",
                "200000",
                "--pool",
                "processes",
                "-o",
                "a.npy",
            ],
            "200000x200000",
        ),
        (&["render", "--shard", "8/8", "-o", "a.shard"], "8/8"),
        (&["render", "--shard", "0/0", "-o", "a.shard"], "0/0"),
        (
            &["render", "--shard", "3", "-o", "a.shard"],
            "shard = 3 is not I/N",
        ),
        (
            &["render", "--shard", "1/2", "-o", "a.png"],
            "--output = a.png",
        ),
        (&["render", "--shard", "1/2", "-o", "-"], "--output = -"),
        (&["merge", "-o", "a.png", "none.shard"], "none.shard"),
        (&["merge", "-o", "a.png"], "PART"),
        (&["render", "-o", "missing/a.png"], "missing/a.png"),
        (&["render"], "--output"),
        (&["paint"], "paint"),
    ];
    for (args, needle) in cases {
        assert_refused(d, args, needle);
    }
    // A path through a regular file cannot be created (even by root).
    std::fs::write(d.join("file"), b"x").unwrap();
    let out = mandel()
        .current_dir(d)
        .args(["render", "-o", "file/a.png"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("file/a.png"));
    assert_eq!(files_in(d), ["file"]);
}

#[test]
fn an_interrupted_render_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = crate::util::spawn_endless_render(dir.path(), &[], &[]);
    // The temporary file is created before the work starts; wait for it to appear.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while files_in(dir.path()).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no temporary file appeared"
        );
        std::thread::yield_now();
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[test]
fn help_and_version_succeed() {
    mandel().arg("--help").assert().success();
    mandel().arg("--version").assert().success();
    let out = mandel().args(["render", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for opt in [
        "--width",
        "--center",
        "--zoom",
        "--pool",
        "--jobs",
        "--colormap",
        "--format",
    ] {
        assert!(help.contains(opt), "render --help lacks {opt}");
    }
}

#[test]
fn serve_refuses_bad_options_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A port that is taken: the test holds it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["serve", "--listen", "nowhere"], "nowhere"),
        (&["serve", "--listen", &taken], &taken),
        (&["serve", "--max-workers", "0"], "--max-workers"),
        (&["serve", "--render-timeout", "-1"], "-1"),
        (&["serve", "--isolation", "vm"], "vm"),
        (
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--db",
                "no/such/folder/m.db",
            ],
            "no/such/folder/m.db",
        ),
    ];
    for (args, needle) in cases {
        assert_refused(d, args, needle);
    }
}
