//! `mandel serve` end to end: the real binary, real worker processes, real sockets on
//! loopback, a real SQLite file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// About 1.3 s on one core of the development machine: slow enough to be caught in flight,
/// whichever kernel runs it (points near the cardioid's edge at max-iter 10^6).
const SLOW: &str = "center=-0.75,0&zoom=10000&width=100&height=100&max_iter=1000000&format=npy";
/// A quarter of SLOW's pixels.
const SLOWISH: &str = "center=-0.75,0&zoom=10000&width=50&height=50&max_iter=1000000&format=npy";

/// A running `mandel serve` on a free port with its own database, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    db: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mandel.db");
        let mut child = Command::new(assert_cmd::cargo::cargo_bin!("mandel"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .args(extra)
            .env("MANDEL_LOG", "info")
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The ready line carries the address really bound; the rest of the log is kept for
        // assertions and so that the pipe never fills.
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap().to_string();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no ready line: {:?}", log.lock().unwrap()))
            .parse()
            .unwrap();
        Server {
            child,
            addr,
            db,
            log,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn get(&self, path: &str) -> Reply {
        get_with(&self.url(path), &[])
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn db(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn
    }

    /// (id, status, pid, error) of every render logged.
    fn renders(&self) -> Vec<(i64, String, u32, Option<String>)> {
        let conn = self.db();
        let mut stmt = conn
            .prepare("SELECT id, status, pid, error FROM renders ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn metric(&self, name: &str) -> f64 {
        let text = self.get("/metrics").text();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill takes plain integers; the child is not reaped until `wait`.
        assert_eq!(unsafe { libc::kill(self.pid() as i32, sig) }, 0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// One request on a new connection, closed afterwards (so a worker is not kept waiting).
fn get_with(url: &str, headers: &[(&str, &str)]) -> Reply {
    try_get(url, headers).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// [`get_with`], for a server that may not answer.
fn try_get(url: &str, headers: &[(&str, &str)]) -> Result<Reply, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let mut req = agent.get(url).header("Connection", "close");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.call()?;
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    Ok(Reply {
        status: resp.status().as_u16(),
        headers,
        body: resp.body_mut().with_config().limit(1 << 30).read_to_vec()?,
    })
}

/// Pids and states (R, S, Z, ...) of the processes whose parent is `parent`.
fn children(parent: u32) -> Vec<(u32, char)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name is in parentheses and may hold spaces: parse after the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        if fields.next().and_then(|p| p.parse::<u32>().ok()) == Some(parent) {
            out.push((pid, state));
        }
    }
    out
}

/// Polls `done` every few milliseconds until it holds or `limit` passes.
fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn serves_pictures_data_json_and_health() {
    for isolation in ["process", "thread"] {
        let server = Server::start(&["--isolation", isolation]);
        let png = server.get("/render?width=64&height=48&colormap=magma");
        assert_eq!(png.status, 200, "{isolation}");
        assert_eq!(png.header("content-type"), Some("image/png"));
        let img = image::load_from_memory(&png.body).unwrap();
        assert_eq!((img.width(), img.height()), (64, 48));

        // The counts are `mandel render`'s, to the bit.
        let npy =
            server.get("/render?width=33&height=17&max_iter=300&center=-0.5,0.5&zoom=4&format=npy");
        assert_eq!(npy.header("content-type"), Some("application/octet-stream"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.npy");
        crate::util::mandel()
            .args(["render", "--width=33", "--height=17", "--max-iter=300"])
            .args(["--center=-0.5,0.5", "--zoom=4", "-q", "-o"])
            .arg(&path)
            .assert()
            .success();
        assert_eq!(npy.body, std::fs::read(&path).unwrap(), "{isolation}");
        let iterations: u64 = npy.header("x-mandel-iterations").unwrap().parse().unwrap();
        let counts = crate::util::read_npy(&path).1;
        assert_eq!(
            iterations,
            counts.iter().map(|&n| u64::from(n)).sum::<u64>()
        );

        let jpeg = server.get("/render?width=20&height=10&format=jpeg");
        assert_eq!(jpeg.header("content-type"), Some("image/jpeg"));

        let page = server.get("/renders?limit=2").json();
        assert_eq!(page["renders"].as_array().unwrap().len(), 2);
        assert_eq!(page["renders"][0]["format"], "jpeg");
        let next = page["next"].as_str().unwrap().to_string();
        let older = server.get(&next).json();
        assert_eq!(older["renders"][0]["format"], "png");
        assert!(older["next"].is_null());
        // Deep zoom takes the same path: the spiral about c = i at 1e300.
        let deep = "width=16&height=12&max_iter=3000&center=0,1&zoom=1e300&format=npy";
        let reply = server.get(&format!("/render?{deep}"));
        assert_eq!(reply.status, 200, "{isolation}: {}", reply.text());
        crate::util::mandel()
            .args(["render", "--width=16", "--height=12", "--max-iter=3000"])
            .args(["--center=0,1", "--zoom=1e300", "-q", "-o"])
            .arg(&path)
            .assert()
            .success();
        assert_eq!(reply.body, std::fs::read(&path).unwrap(), "{isolation}");

        let id = npy.header("x-mandel-render-id").unwrap();
        let one = server.get(&format!("/renders/{id}")).json();
        assert_eq!(
            (one["status"].as_str(), one["iterations"].as_u64()),
            (Some("ok"), Some(iterations))
        );
        assert_eq!(
            one["pid"].as_u64().map(|p| p as u32),
            npy.header("x-mandel-worker").map(|p| p.parse().unwrap())
        );
        // A render's link re-renders the same picture.
        let again = server.get(&format!("/render?{}", one["query"].as_str().unwrap()));
        assert_eq!(again.body, npy.body);

        assert_eq!(server.get("/healthz").json()["status"], "ok");
        let metrics = server.get("/metrics").text();
        assert!(
            metrics.contains("mandel_http_requests_total{status=\"200\"}"),
            "{metrics}"
        );
        assert!(
            metrics.contains("mandel_render_seconds_count 5"),
            "{metrics}"
        );
    }
}

#[test]
fn bad_and_oversized_parameters_are_named() {
    let server = Server::start(&["--max-pixels", "10000", "--max-iter-limit", "5000"]);
    for (query, status, field) in [
        ("width=abc", 400, "width"),
        ("width=10&height=10&xmax=2&ymin=1", 400, "ymin"),
        ("max_iter=0", 400, "max_iter"),
        ("xmin=1&xmax=-1", 400, "xmin"),
        ("colormap=%3Cscript%3E", 400, "colormap"),
        ("format=gif", 400, "format"),
        ("zoom=-2", 400, "zoom"),
        ("center=0,1&zoom=1e99999", 400, "zoom"),
        ("center=0,1.5x&zoom=1e30", 400, "center"),
        ("precision=exact", 400, "precision"),
        ("bogus=1", 400, "bogus"),
        ("width=101&height=100", 413, "pixels"),
        ("width=50&height=50&supersample=3", 413, "pixels"),
        ("max_iter=5001", 422, "max_iter"),
    ] {
        let reply = server.get(&format!("/render?{query}"));
        assert_eq!(reply.status, status, "{query}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let body = reply.json();
        assert_eq!(body["field"], field, "{query}");
        if status != 400 {
            assert!(body["limit"].as_u64().is_some(), "{query}: {body}");
        }
    }
    assert_eq!(server.get("/renders/nope").status, 400);
    assert_eq!(server.get("/renders/12345").status, 404);
    assert_eq!(server.get("/nowhere").status, 404);
    assert!(
        server.renders().is_empty(),
        "a refused request is not a render"
    );
    // The server is unharmed.
    assert_eq!(
        server
            .get("/render?width=100&height=100&max_iter=5000")
            .status,
        200
    );
}

#[test]
fn the_worker_cap_holds_and_every_request_succeeds() {
    for isolation in ["process", "thread"] {
        let server = Server::start(&["--max-workers", "2", "--isolation", isolation]);
        let url = server.url(&format!("/render?{SLOWISH}"));
        let requests: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                thread::spawn(move || get_with(&url, &[]).status)
            })
            .collect();
        // Watch the supervisor's children and the board while the requests run.
        let mut most_children = 0;
        let mut most_busy = 0.0f64;
        while !requests.iter().all(|r| r.is_finished()) {
            if isolation == "process" {
                most_children = most_children.max(children(server.pid()).len());
            }
            thread::sleep(Duration::from_millis(5));
        }
        for r in requests {
            assert_eq!(r.join().unwrap(), 200, "{isolation}");
        }
        assert!(most_children <= 2, "{most_children} workers alive at once");
        // Renders overlapped at most two at a time (start and end as the log has them).
        let conn = server.db();
        let mut stmt = conn
            .prepare("SELECT requested_at, requested_at + duration_ms FROM renders")
            .unwrap();
        let spans: Vec<(f64, f64)> = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as f64, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(spans.len(), 6);
        for &(start, _) in &spans {
            // 1 ms of slack: start times are logged to the millisecond.
            let overlapping = spans
                .iter()
                .filter(|&&(s, e)| s <= start && start + 1.0 < e)
                .count();
            most_busy = most_busy.max(overlapping as f64);
        }
        assert!(most_busy <= 2.0, "{isolation}: {most_busy} renders at once");
        assert!(
            server.metric("mandel_accept_paused_total") >= 1.0,
            "{isolation}"
        );
        if isolation == "process" {
            wait_until(Duration::from_secs(20), "workers to exit", || {
                children(server.pid()).is_empty()
            });
        }
    }
}

#[test]
fn a_worker_killed_mid_render_is_reaped_and_its_render_marked_failed() {
    let server = Server::start(&[]);
    let url = server.url(&format!(
        "/render?{}",
        SLOW.replace("width=100", "width=400")
    ));
    let request = thread::spawn(move || ureq::get(&url).call().map(|r| r.status().as_u16()));
    let mut victim = 0;
    wait_until(Duration::from_secs(30), "the render to start", || {
        if let Some((_, status, pid, _)) = server.renders().first() {
            assert_eq!(status, "running");
            victim = *pid;
        }
        victim != 0
    });
    assert!(children(server.pid()).iter().any(|&(p, _)| p == victim));
    // SAFETY: kill takes plain integers.
    assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
    assert!(
        request.join().unwrap().is_err(),
        "the client sees the connection die"
    );
    wait_until(
        Duration::from_secs(20),
        "the render to be marked failed",
        || server.renders()[0].1 != "running",
    );
    let (_, status, _, error) = &server.renders()[0];
    assert_eq!(status, "failed");
    assert!(error.as_deref().unwrap().contains("signal 9"), "{error:?}");
    wait_until(
        Duration::from_secs(20),
        "the dead worker to be reaped",
        || !children(server.pid()).iter().any(|&(p, _)| p == victim),
    );
    let check: String = server
        .db()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(server.metric("mandel_workers_failed_total"), 1.0);
    assert_eq!(server.get("/render?width=8&height=8").status, 200);
}

#[test]
fn a_render_whose_client_left_is_cancelled_and_logged() {
    for isolation in ["process", "thread"] {
        let server = Server::start(&["--isolation", isolation]);
        let mut stream = TcpStream::connect(server.addr).unwrap();
        // Thirty times SLOW: far longer than the test lets it run.
        let endless = SLOW.replace("width=100&height=100", "width=550&height=550");
        write!(stream, "GET /render?{endless} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        wait_until(Duration::from_secs(30), "the render to start", || {
            !server.renders().is_empty()
        });
        let left = Instant::now();
        drop(stream);
        wait_until(Duration::from_secs(10), "the render to be logged", || {
            server.renders()[0].1 != "running"
        });
        assert_eq!(server.renders()[0].1, "cancelled", "{isolation}");
        assert!(left.elapsed() < Duration::from_secs(5), "{isolation}");
        wait_until(Duration::from_secs(10), "the worker to exit", || {
            children(server.pid()).is_empty()
        });
        assert_eq!(server.metric("mandel_workers_failed_total"), 0.0);
        assert_eq!(server.metric("mandel_renders_in_flight"), 0.0);
    }
}

#[test]
fn every_shape_of_request_ends_within_half_a_second_of_its_deadline() {
    // The request of the issue that found the deadline did not hold (inside the main
    // cardioid at max_iter 10^6, smooth: no shortcuts), its column, then counts near the
    // cardioid's cusp with the bulb (see SLOW), histogram-coloured and supersampled.
    let inside = "xmin=-0.1&xmax=0.1&ymin=-0.01&ymax=0.01&max_iter=1000000&color=smooth";
    let cusp = "center=-0.75,0&zoom=10000&max_iter=1000000";
    let shapes = [
        format!("{inside}&width=16000000&height=1"),
        format!("{inside}&width=1&height=16000000"),
        format!("{cusp}&width=1000&height=1000&color=histogram"),
        format!("{cusp}&width=300&height=300&supersample=4"),
    ];
    for isolation in ["process", "thread"] {
        let server = Server::start(&["--isolation", isolation, "--render-timeout", "1"]);
        for shape in &shapes {
            let start = Instant::now();
            let reply = server.get(&format!("/render?{shape}"));
            let took = start.elapsed();
            assert_eq!(reply.status, 503, "{isolation} {shape}: {}", reply.text());
            assert!(
                took < Duration::from_millis(1500),
                "{isolation} {shape}: {took:?} for a 1 s deadline"
            );
        }
        let statuses: Vec<String> = server.renders().into_iter().map(|r| r.1).collect();
        assert_eq!(statuses, ["timeout"; 4], "{isolation}");
    }
}

#[test]
fn every_render_answered_200_is_logged_ok_after_a_sigkill_under_load() {
    for isolation in ["process", "thread"] {
        let mut server = Server::start(&["--isolation", isolation]);
        let url = server.url("/render?width=48&height=48&max_iter=2000");
        let answered = Mutex::new(Vec::new());
        let killed = std::sync::atomic::AtomicBool::new(false);
        thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    while !killed.load(std::sync::atomic::Ordering::Relaxed) {
                        match try_get(&url, &[]) {
                            Ok(reply) if reply.status == 200 => {
                                let id: i64 =
                                    reply.header("x-mandel-render-id").unwrap().parse().unwrap();
                                answered.lock().unwrap().push(id);
                            }
                            Ok(reply) => assert!(reply.status >= 500, "{}", reply.text()),
                            Err(_) => {}
                        }
                    }
                });
            }
            wait_until(Duration::from_secs(60), "200 renders answered", || {
                answered.lock().unwrap().len() >= 200
            });
            // The whole server at once: the supervisor and every worker.
            let mut pids = vec![server.pid()];
            pids.extend(children(server.pid()).into_iter().map(|(pid, _)| pid));
            for pid in pids {
                // SAFETY: kill takes plain integers; these are the server's processes.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
            killed.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        let _ = server.child.wait();
        let answered = answered.into_inner().unwrap();
        let conn = server.db();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "{isolation}");
        for id in &answered {
            let status: String = conn
                .query_row("SELECT status FROM renders WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .unwrap_or_else(|e| {
                    panic!("{isolation}: render {id} answered 200, not logged: {e}")
                });
            assert_eq!(status, "ok", "{isolation}: render {id}");
        }
        let ok: i64 = conn
            .query_row(
                "SELECT count(*) FROM renders WHERE status = 'ok'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            ok >= answered.len() as i64,
            "{isolation}: {ok} ok, {} answered",
            answered.len()
        );
    }
}

#[test]
fn a_client_that_stops_reading_is_dropped_after_the_write_timeout() {
    let server = Server::start(&["--write-timeout", "1"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    // 48 MB of PPM, which the kernel's socket buffers cannot hold; never read.
    let query = "width=4096&height=4096&max_iter=20&format=ppm";
    write!(stream, "GET /render?{query} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    wait_until(Duration::from_secs(30), "the render to be logged", || {
        server.renders().first().is_some_and(|r| r.1 == "ok")
    });
    let start = Instant::now();
    wait_until(
        Duration::from_secs(20),
        "the worker to drop the connection",
        || children(server.pid()).is_empty(),
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("write timeout")),
        "no write timeout in the log"
    );
    drop(stream);
}

#[test]
fn a_client_trickling_its_headers_is_dropped() {
    let server = Server::start(&["--header-timeout", "1"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    let start = Instant::now();
    let request =
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: a-very-slow-client-indeed\r\n\r\n";
    let mut dropped = false;
    for &byte in request {
        if stream.write_all(&[byte]).is_err() {
            dropped = true;
            break;
        }
        // Pacing the client, not waiting for the server: a byte every 200 ms.
        thread::sleep(Duration::from_millis(200));
        stream.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 256];
        // End of file (or any answer) means the server gave up on us.
        let closed = stream.read(&mut buf).is_ok();
        stream.set_nonblocking(false).unwrap();
        if closed {
            dropped = true;
            break;
        }
    }
    let took = start.elapsed();
    assert!(dropped, "the server waited for all {} bytes", request.len());
    assert!(took < Duration::from_secs(5), "dropped only after {took:?}");
    wait_until(
        Duration::from_secs(10),
        "the worker slot to be freed",
        || children(server.pid()).is_empty(),
    );
}

#[test]
fn workers_hold_no_listening_socket() {
    let server = Server::start(&[]);
    // Keep a connection open so its worker stays alive to be inspected.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut worker = None;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
        if let Some(pid) = line.to_ascii_lowercase().strip_prefix("x-mandel-worker: ") {
            worker = Some(pid.trim().parse::<u32>().unwrap());
        }
        line.clear();
    }
    let worker = worker.expect("x-mandel-worker header");
    assert!(children(server.pid()).iter().any(|&(p, _)| p == worker));

    let sockets = |pid: u32| -> Vec<String> {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .map(|l| l.to_string_lossy().into_owned())
            .filter(|l| l.starts_with("socket:"))
            .collect()
    };
    let listener = listening_socket_inode(server.addr.port());
    assert!(
        sockets(server.pid()).contains(&listener),
        "the supervisor listens"
    );
    let worker_sockets = sockets(worker);
    assert!(!worker_sockets.contains(&listener), "{worker_sockets:?}");
    // Its runtime has sockets of its own (the signal driver's pair); of TCP sockets it holds
    // only its connection.
    let tcp = tcp_socket_inodes();
    let worker_tcp: Vec<_> = worker_sockets.iter().filter(|s| tcp.contains(s)).collect();
    assert_eq!(
        worker_tcp.len(),
        1,
        "only its connection: {worker_sockets:?}"
    );
    drop(reader);
    drop(stream);
    wait_until(Duration::from_secs(10), "the worker to exit", || {
        children(server.pid()).is_empty()
    });
}

/// (local address, state, `socket:[INODE]`) of every IPv4 TCP socket, from /proc/net/tcp.
fn tcp_table() -> Vec<(String, String, String)> {
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[1].to_string(),
                f[3].to_string(),
                format!("socket:[{}]", f[9]),
            )
        })
        .collect()
}

fn tcp_socket_inodes() -> Vec<String> {
    tcp_table().into_iter().map(|(_, _, inode)| inode).collect()
}

/// `socket:[INODE]` of the socket listening on `port` on loopback.
fn listening_socket_inode(port: u16) -> String {
    let local = format!("0100007F:{port:04X}");
    tcp_table()
        .into_iter()
        .find(|(addr, state, _)| *addr == local && state == "0A")
        .map(|(_, _, inode)| inode)
        .expect("a listening socket")
}

#[test]
fn sigterm_lets_requests_in_flight_finish() {
    for isolation in ["process", "thread"] {
        let server = Server::start(&["--isolation", isolation]);
        let url = server.url(&format!("/render?{SLOW}"));
        let requests: Vec<_> = (0..2)
            .map(|_| {
                let url = url.clone();
                thread::spawn(move || get_with(&url, &[]))
            })
            .collect();
        wait_until(Duration::from_secs(30), "two renders in flight", || {
            server.renders().iter().filter(|r| r.1 == "running").count() == 2
        });
        server.signal(libc::SIGTERM);
        for r in requests {
            let reply = r.join().unwrap();
            assert_eq!(reply.status, 200, "{isolation}");
            assert_eq!(reply.body.len(), 128 + 100 * 100 * 4, "a whole npy file");
        }
        let mut server = server;
        let status = server.child.wait().unwrap();
        assert!(status.success(), "{isolation}: {status}");
        assert!(children(server.pid()).is_empty());
        assert!(server.renders().iter().all(|r| r.1 == "ok"));
        assert!(
            TcpStream::connect(server.addr).is_err(),
            "no longer listening"
        );
        let log = server.log.lock().unwrap().join("\n");
        assert!(log.contains("shutting down"), "{log}");
    }
}

#[test]
fn the_summary_page_counts_and_escapes() {
    let server = Server::start(&["--max-workers", "7"]);
    let ua = "<script>alert('x')</script>";
    let reply = get_with(
        &server.url("/render?width=30&height=20&colormap=classic"),
        &[("User-Agent", ua)],
    );
    assert_eq!(reply.status, 200);
    let page = server.get("/");
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    assert!(!html.contains(ua), "the user agent is printed raw");
    assert!(
        html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt;"),
        "{html}"
    );
    assert!(html.contains("/ 7</small>"), "the cap is shown");
    assert!(html.contains("re-render"));
    let link = html
        .split("href=\"/render?")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let again = server.get(&format!("/render?{link}"));
    assert_eq!(again.body, reply.body, "the link renders the same picture");
}
