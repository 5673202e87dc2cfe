//! The HTTP enrichment provider (`[[enrichment]] kind = "http"`): a
//! domain the writer sees for the first time is queued here (never
//! delaying an ack), asked of the customer's API at most
//! `rate_per_minute` times a minute with a `timeout`, and the answer (a
//! JSON object whose fields become traits; 404: nothing known) goes to the
//! writer, which applies it to the accounts with that domain and keeps it.
//! Answers are reused for `ttl`, then asked again.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use bellwether_enrich::HttpSettings;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::metrics::OutcomeLabels;
use crate::AppState;

/// Domains waiting beyond this are dropped (asked again when next seen).
const QUEUE: usize = 10_000;
/// Largest answer read.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// How often answers past their TTL are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Starts the provider; `None` (logged) when no HTTP client can be made.
pub(super) fn start(settings: HttpSettings, state: AppState) -> Option<JoinHandle<()>> {
    let provider = match Provider::new(settings, state) {
        Ok(provider) => provider,
        Err(error) => {
            tracing::error!(%error, "enrichment provider not started: no HTTP client");
            return None;
        }
    };
    let (requests, queue) = mpsc::channel::<String>(QUEUE);
    provider
        .state
        .config
        .identity
        .enrichment
        .connect_provider(Box::new(move |domain| {
            let _ = requests.try_send(domain.to_owned());
        }));
    Some(tokio::spawn(provider.run(queue)))
}

struct Provider {
    settings: HttpSettings,
    state: AppState,
    client: reqwest::Client,
    pending: VecDeque<String>,
    queued: HashSet<String>,
    next_request: Instant,
}

/// What one request came to.
enum Outcome {
    Answered(Map<String, Value>),
    NotFound,
    Failed(String),
}

impl Provider {
    fn new(settings: HttpSettings, state: AppState) -> Result<Self, reqwest::Error> {
        let timeout = Duration::from_millis(u64::try_from(settings.timeout_ms).unwrap_or(5_000));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(Self {
            settings,
            state,
            client,
            pending: VecDeque::new(),
            queued: HashSet::new(),
            next_request: Instant::now(),
        })
    }

    async fn run(mut self, mut queue: mpsc::Receiver<String>) {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            while let Ok(domain) = queue.try_recv() {
                self.enqueue(domain);
            }
            if let Some(domain) = self.pending.pop_front() {
                self.queued.remove(&domain);
                if self.is_fresh(&domain) {
                    continue;
                }
                tokio::time::sleep_until(self.next_request).await;
                self.next_request = Instant::now() + self.spacing();
                self.ask(domain).await;
                continue;
            }
            tokio::select! {
                domain = queue.recv() => match domain {
                    Some(domain) => self.enqueue(domain),
                    None => return,
                },
                _ = sweep.tick() => self.enqueue_expired(),
            }
        }
    }

    fn enqueue(&mut self, domain: String) {
        if self.queued.insert(domain.clone()) {
            self.pending.push_back(domain);
        }
    }

    fn enqueue_expired(&mut self) {
        let enrichment = self.state.config.identity.enrichment.clone();
        for domain in enrichment.answered_domains() {
            if !self.is_fresh(&domain) {
                self.enqueue(domain);
            }
        }
    }

    /// Whether the kept answer for `domain` is within its TTL.
    fn is_fresh(&self, domain: &str) -> bool {
        let now = self.state.clock.now_ms();
        self.state
            .config
            .identity
            .enrichment
            .answer(domain)
            .is_some_and(|answer| now - answer.fetched_at < self.settings.ttl_ms)
    }

    fn spacing(&self) -> Duration {
        Duration::from_millis(60_000 / u64::from(self.settings.rate_per_minute.max(1)))
    }

    async fn ask(&mut self, domain: String) {
        let outcome = self.fetch(&domain).await;
        let (label, traits) = match outcome {
            Outcome::Answered(traits) => ("answered", traits),
            Outcome::NotFound => ("not_found", Map::new()),
            Outcome::Failed(problem) => {
                tracing::warn!(%domain, %problem, "enrichment provider failed");
                *self.state.metrics.enrichment_last_error.lock() =
                    Some(format!("{domain}: {problem}"));
                self.count("failed");
                return;
            }
        };
        self.count(label);
        let now = self.state.clock.now_ms();
        if let Err(error) = self
            .state
            .ingestor
            .enrichment_answer(domain.clone(), traits, now)
            .await
        {
            tracing::error!(%domain, %error, "storing the enrichment answer failed");
        }
    }

    fn count(&self, outcome: &'static str) {
        self.state
            .metrics
            .enrichment_requests
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    async fn fetch(&self, domain: &str) -> Outcome {
        let url = self.settings.url.replace("{domain}", domain);
        let mut request = self.client.get(&url);
        for (name, value) in &self.settings.headers {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                return Outcome::Failed(format!("no answer within {} ms", self.settings.timeout_ms))
            }
            Err(error) => return Outcome::Failed(error.to_string()),
        };
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Outcome::NotFound;
        }
        if !status.is_success() {
            return Outcome::Failed(format!("HTTP {status}"));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return Outcome::Failed(format!("answer larger than {MAX_ANSWER_BYTES} bytes"));
        }
        let body = match response.bytes().await {
            Ok(body) if body.len() <= MAX_ANSWER_BYTES => body,
            Ok(_) => {
                return Outcome::Failed(format!("answer larger than {MAX_ANSWER_BYTES} bytes"))
            }
            Err(error) => return Outcome::Failed(error.to_string()),
        };
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(traits)) => Outcome::Answered(traits),
            Ok(_) => Outcome::Failed("the answer is not a JSON object".into()),
            Err(error) => Outcome::Failed(format!("the answer is not JSON: {error}")),
        }
    }
}
