//! Starts `bellwether serve` on a free port with a temporary data directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) const WRITE_KEY: &str = "wk_test_source";
pub(crate) const ADMIN_TOKEN: &str = "tok_admin_secret";
pub(crate) const READ_TOKEN: &str = "tok_read_secret";

pub(crate) fn config_text() -> String {
    format!(
        r#"
[[source]]
name = "web"
write_key = "{WRITE_KEY}"

[[token]]
name = "admin"
secret = "{ADMIN_TOKEN}"
scopes = ["admin"]

[[token]]
name = "reader"
secret = "{READ_TOKEN}"
scopes = ["read"]
"#
    )
}

/// Which store the server runs on.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite,
    /// A PostgreSQL URL (with its own schema for isolation).
    Postgres(String),
}

pub(crate) struct Server {
    child: Option<Child>,
    pub(crate) base: String,
    pub(crate) dir: tempfile::TempDir,
    backend: Backend,
    port: u16,
}

/// Definitions the engine tests serve (appended to the base config).
pub(crate) const DEFINITIONS: &str = r#"
[[score]]
name = "intent"
subject = "contact"
half_life = "14d"
rules = [ { on = '"Demo Requested"', points = 30 }, { on = 'page where path = "/pricing"', points = 10 } ]

[[segment]]
name = "demo_requesters"
subject = "contact"
when = 'exists("Demo Requested")'
owner = "sdr-pool"
action = "SDR outreach within 1 hour"

[[segment]]
name = "just_clicked"
subject = "contact"
when = 'count("Clicked", last 1s) >= 1'

[[segment]]
name = "engaged_accounts"
subject = "account"
when = 'count(contacts where in_segment("demo_requesters")) >= 1'

[[tier]]
name = "intent_level"
subject = "contact"
levels = [ { name = "high", when = 'score("intent") >= 25' }, { name = "low", when = 'true' } ]
"#;

pub(crate) fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bellwether"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

impl Server {
    pub(crate) fn start() -> Self {
        Self::start_on(Backend::Sqlite)
    }

    pub(crate) fn start_on(backend: Backend) -> Self {
        Self::start_with(backend, "")
    }

    /// A server whose config adds `extra` (definitions) to the base config.
    pub(crate) fn start_with(backend: Backend, extra: &str) -> Self {
        Self::start_prepared(backend, extra, |_, _| {})
    }

    /// [`Server::start_with`], after `prepare(config, data_dir)` ran (an
    /// import before the first start, say).
    pub(crate) fn start_prepared(
        backend: Backend,
        extra: &str,
        prepare: impl FnOnce(&Path, &Path),
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bellwether.toml"), config_text() + extra)
            .expect("write config");
        prepare(
            &dir.path().join("bellwether.toml"),
            &dir.path().join("data"),
        );
        let mut server = Self {
            child: None,
            base: String::new(),
            dir,
            backend,
            port: free_port(),
        };
        server.spawn();
        server
    }

    /// The server process's id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.dir.path().join("bellwether.toml")
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn spawn(&mut self) {
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .arg("--config")
            .arg(self.config_path())
            .arg("--data")
            .arg(self.data_dir())
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .env("BELLWETHER_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Backend::Postgres(url) = &self.backend {
            command.arg("--database").arg(url);
        }
        self.child = Some(command.spawn().expect("spawn bellwether"));
        self.base = format!("http://127.0.0.1:{}", self.port);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = reqwest::blocking::Client::new();
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("server exited early: {status}");
                }
            }
            if client
                .get(format!("{}/healthz", self.base))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server did not become ready at {}", self.base);
    }

    /// `kill -9`: no shutdown hooks, no flushing.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data.
    pub(crate) fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// SIGTERM and wait for a clean exit.
    pub(crate) fn stop_gracefully(&mut self) -> std::process::ExitStatus {
        let child = self.child.as_mut().expect("running");
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
        let status = child.wait().expect("wait");
        self.child = None;
        status
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs JSON to a tracking endpoint with the write key.
    pub(crate) fn send(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = client()
            .post(self.url(path))
            .basic_auth(WRITE_KEY, Some(""))
            .json(body)
            .send()
            .expect("request");
        read(response)
    }

    /// GETs an API path with a token.
    pub(crate) fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = client()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .expect("request");
        read(response)
    }

    pub(crate) fn contact(&self, user_id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/contacts/{user_id}"), READ_TOKEN);
        assert_eq!(status, 200, "contact {user_id}: {body}");
        body
    }

    /// A segment's members (ids, sorted; at most 1,000).
    pub(crate) fn members(&self, segment: &str) -> Vec<String> {
        let (status, page) = self.get(
            &format!("/api/v1/segments/{segment}/members?limit=1000"),
            READ_TOKEN,
        );
        assert_eq!(status, 200, "members of {segment}: {page}");
        let mut ids: Vec<String> = page["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    }

    pub(crate) fn events(&self, user_id: &str) -> Vec<Value> {
        let (status, body) = self.get(
            &format!("/api/v1/contacts/{user_id}/events?limit=1000"),
            READ_TOKEN,
        );
        assert_eq!(status, 200, "events of {user_id}: {body}");
        body["events"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Polls until `done` holds, at most 20 s (for what the server does in
/// the background: retention passes, reloads, provider answers).
pub(crate) fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

pub(crate) fn read(response: reqwest::blocking::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// A unique prefix so tests sharing nothing still read clearly in logs.
pub(crate) fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// PostgreSQL URL for tests (fails loudly if not reachable: never skipped).
pub(crate) fn pg_url() -> String {
    std::env::var("BELLWETHER_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Writes `lines` as NDJSON beside `data` and runs `bellwether import` of it
/// into the store at `data` (a `Server::start_prepared` step).
pub(crate) fn import_lines(config: &Path, data: &Path, lines: &[Value]) {
    let file = data.with_extension("ndjson");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).expect("write ndjson");
    let imported = Command::new(binary())
        .arg("import")
        .arg(&file)
        .arg("--config")
        .arg(config)
        .arg("--data")
        .arg(data)
        .output()
        .expect("run bellwether import");
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
}
