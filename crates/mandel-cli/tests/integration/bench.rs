//! `mandel bench`: the table and its files.

use crate::util::mandel;

#[test]
fn bench_times_every_pool_and_writes_json_csv_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = mandel()
        .current_dir(d)
        .args([
            "bench",
            "--width",
            "40",
            "--height",
            "30",
            "--max-iter",
            "200",
        ])
        .args(["--repeat", "2", "--jobs", "1,2", "--kernels", "scalar,auto"])
        .args([
            "--python", "--json", "b.json", "--csv", "b.csv", "--plot", "b.svg",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Per kernel: sequential once, threads and processes at 1 and 2 jobs; Python: 1 + 2.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("b.json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2 * 5 + 3, "{stdout}");
    let iterations = json["iterations"].as_u64().unwrap();
    assert!(iterations >= 40 * 30);
    for r in rows {
        let seconds = r["seconds"].as_array().unwrap();
        let expected_runs = if r["program"] == "python" { 1 } else { 2 };
        assert_eq!(seconds.len(), expected_runs);
        assert!(r["median_s"].as_f64().unwrap() > 0.0);
        assert!(r["vs_seed"].as_f64().unwrap() > 0.0);
        if r["pool"] == "sequential" {
            assert_eq!(r["speedup"].as_f64().unwrap(), 1.0);
        }
    }
    assert!(
        rows.iter()
            .any(|r| r["program"] == "python" && r["pool"] == "processes")
    );

    let csv = std::fs::read_to_string(d.join("b.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + rows.len());
    assert!(csv.starts_with("program,pool,kernel,jobs,"));
    let svg = std::fs::read_to_string(d.join("b.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("ideal") && svg.contains("processes"));
    // The table has a header and one line per row.
    assert!(stdout.lines().any(|l| l.starts_with("program")));
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("mandel ") || l.starts_with("python "))
            .count(),
        rows.len()
    );
}

#[test]
fn bench_refuses_a_plot_it_cannot_draw() {
    let dir = tempfile::tempdir().unwrap();
    let out = mandel()
        .current_dir(dir.path())
        .args(["bench", "--width", "8", "--height", "8", "--plot", "b.gif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("b.gif"));
    assert!(crate::util::files_in(dir.path()).is_empty());
}
