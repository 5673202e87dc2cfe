//! The web UI on the real binary: the whole scenario in a real headless
//! Chromium (`tests/ui/scenario.mjs`, playwright-core driving Debian's
//! `/usr/bin/chromium`), the editor's visual builder (`tests/ui/builder.mjs`),
//! and the sign-in rules over plain HTTP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::{binary, repo_root};

const TOKEN: &str = "ui-test-admin-token";

/// `bellwether demo` on a small generated population, stopped on drop.
struct Demo {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    /// Listens on `host` (port chosen by the system).
    fn start(host: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(binary())
            .args(["demo", "--events", "20000", "--token", TOKEN, "--listen"])
            .arg(format!("{host}:0"))
            .arg("--data")
            .arg(dir.path().join("demo"))
            .env("BELLWETHER_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the demo");
        let stdout = child.stdout.take().expect("stdout");
        let (lines_tx, lines_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut printed = Vec::new();
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line: String = lines_rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the demo did not start: {printed:?}"));
            if let Some(address) = line.strip_prefix("Bellwether demo is running at http://") {
                let port = address
                    .trim_end_matches('/')
                    .rsplit(':')
                    .next()
                    .unwrap_or("");
                break port.parse().expect("a port in the demo's address");
            }
            printed.push(line);
        };
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn ui_dir() -> PathBuf {
    std::env::var("BELLWETHER_TEST_UI_DIR")
        .map_or_else(|_| repo_root().join("tests/ui"), Into::into)
}

/// Screenshots are test artifacts under the target directory.
fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots")
}

#[test]
fn the_ui_scenario_passes_in_headless_chromium() {
    let demo = Demo::start("127.0.0.1");
    let out = screenshot_dir();
    run_browser_scenario(&demo, "scenario.mjs", &out);
    #[allow(clippy::print_stderr)]
    {
        eprintln!("ui screenshots: {}", out.display());
    }
    expect_screenshots(
        &out,
        &[
            "dashboard",
            "segment",
            "contact",
            "account",
            "contacts",
            "accounts",
            "ingestion",
            "editor-error",
            "editor-preview",
            "dashboard-after-save",
            "segment-live",
        ],
    );
}

/// The editor's visual builder (`tests/ui/builder.mjs`): `hot_intent` built
/// by clicking prints the shipped expression, previews and saves to the
/// same members as the shipped text.
#[test]
fn the_builder_builds_hot_intent_by_clicking_in_headless_chromium() {
    let demo = Demo::start("127.0.0.1");
    let out = screenshot_dir().join("builder");
    run_browser_scenario(&demo, "builder.mjs", &out);
    expect_screenshots(&out, &["builder-hot-intent", "builder-unfit"]);
}

/// Runs `tests/ui/<script>` in Node against the demo; it writes its
/// screenshots to `out` and fails with the step that broke.
fn run_browser_scenario(demo: &Demo, script: &str, out: &Path) {
    let output = Command::new("node")
        .current_dir(ui_dir())
        .arg(script)
        .arg(demo.url(""))
        .arg(TOKEN)
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node: {e} (run scripts/test to install it)"));
    assert!(
        output.status.success(),
        "{script} failed (screenshots in {}):\nstdout: {}\nstderr: {}",
        out.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn expect_screenshots(out: &Path, pages: &[&str]) {
    for page in pages {
        let file = out.join(format!("{page}.png"));
        let size = std::fs::metadata(&file).map_or(0, |m| m.len());
        assert!(
            size > 10_000,
            "screenshot {} ({size} bytes)",
            file.display()
        );
    }
}

fn no_redirects() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

#[test]
fn loopback_pages_open_without_sign_in_but_saving_needs_an_admin_token() {
    let demo = Demo::start("127.0.0.1");
    let client = no_redirects();
    for path in [
        "/",
        "/segments/hot_intent",
        "/contacts",
        "/accounts",
        "/editor",
        "/ingestion",
    ] {
        let response = client.get(demo.url(path)).send().expect("get");
        assert_eq!(response.status(), 200, "{path}");
        let body = response.text().unwrap_or_default();
        assert!(body.contains("Local, read-only"), "{path}");
    }
    // Another Host (DNS rebinding) gets no anonymous access.
    let rebound = client
        .get(demo.url("/"))
        .header("host", "evil.example")
        .send()
        .expect("get");
    assert_eq!(rebound.status(), 303);
    let form = [
        ("name", "needs_token"),
        ("subject", "contact"),
        ("when", "exists(any)"),
        ("intent", "save"),
    ];
    let refused = client
        .post(demo.url("/editor"))
        .form(&form)
        .send()
        .expect("post");
    assert_eq!(refused.status(), 401);
    assert!(refused
        .text()
        .unwrap_or_default()
        .contains("enter an admin token"));
    let mut with_token = form.to_vec();
    with_token.push(("token", TOKEN));
    let saved = client
        .post(demo.url("/editor"))
        .form(&with_token)
        .send()
        .expect("post");
    assert_eq!(saved.status(), 303);
    assert_eq!(saved.headers()["location"], "/?saved=needs_token");
    let cookie = saved.headers()["set-cookie"].to_str().unwrap_or_default();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let dashboard = client
        .get(demo.url("/?saved=needs_token"))
        .send()
        .expect("get");
    assert!(dashboard
        .text()
        .unwrap_or_default()
        .contains("Saved segment"));
    // A bad expression is refused with its position, and nothing changes.
    let bad = [
        ("name", "broken"),
        ("subject", "contact"),
        ("when", "count(\"x\" >="),
        ("intent", "save"),
        ("token", TOKEN),
    ];
    let refused = client
        .post(demo.url("/editor"))
        .form(&bad)
        .send()
        .expect("post");
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .unwrap_or_default()
        .contains("pre class=\"caret\""));
    let segments = client
        .get(demo.url("/api/v1/segments"))
        .bearer_auth(TOKEN)
        .send()
        .expect("get");
    let text = segments.text().unwrap_or_default();
    assert!(
        text.contains("\"needs_token\"") && !text.contains("\"broken\""),
        "{text}"
    );
}

#[test]
fn other_addresses_ask_for_a_token_sign_in() {
    let demo = Demo::start("0.0.0.0");
    let client = no_redirects();
    let response = client
        .get(demo.url("/segments/hot_intent?page=2"))
        .send()
        .expect("get");
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/signin?next=/segments/hot_intent%3Fpage%3D2"
    );
    let stream = client.get(demo.url("/ui/stream")).send().expect("get");
    assert_eq!(stream.status(), 303, "the live feed needs the sign-in too");
    let wrong = client
        .post(demo.url("/signin"))
        .form(&[("token", "nope"), ("next", "/")])
        .send()
        .expect("post");
    assert_eq!(wrong.status(), 401);
    let signed = client
        .post(demo.url("/signin"))
        .form(&[("token", TOKEN), ("next", "//evil.example/")])
        .send()
        .expect("post");
    assert_eq!(signed.status(), 303);
    assert_eq!(signed.headers()["location"], "/", "never off-site");
    let cookie = signed.headers()["set-cookie"].to_str().unwrap_or_default();
    let pair = cookie.split(';').next().unwrap_or_default().to_owned();
    for path in ["/", "/segments/hot_intent", "/ingestion", "/editor"] {
        let page = client
            .get(demo.url(path))
            .header("cookie", &pair)
            .send()
            .expect("get");
        assert_eq!(page.status(), 200, "{path}");
        assert!(
            page.text().unwrap_or_default().contains("Signed in as"),
            "{path}"
        );
    }
    let missing = client
        .get(demo.url("/segments/nope"))
        .header("cookie", &pair)
        .send()
        .expect("get");
    assert_eq!(missing.status(), 404);
    let out = client
        .post(demo.url("/signout"))
        .header("cookie", &pair)
        .send()
        .expect("post");
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap_or_default()
        .contains("Max-Age=0"));
}
