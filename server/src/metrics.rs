//! `/metrics` in the Prometheus text format: requests by route and status, latency histograms
//! by route, decisions by kind and outcome, the bundle version and its reloads, audit failures.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// A request's labels: built without allocating (a route is one of the router's patterns).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

/// A route's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

/// A decision's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    kind: &'static str,
    outcome: &'static str,
}

fn latency_histogram() -> Histogram {
    // 50 µs to ~1.6 s.
    Histogram::new(exponential_buckets(0.00005, 2.0, 16))
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    decisions: Family<DecisionLabels, Counter>,
    bundle: Family<Labels, Gauge>,
    reloads: Family<Labels, Counter>,
    audit_failures: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pol");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "decisions",
            "Decisions by kind (row, detokenize, unmask, revoke) and outcome",
            decisions.clone(),
        );
        let bundle = Family::<Labels, Gauge>::default();
        registry.register(
            "bundle_info",
            "The bundle serving (1 for its version)",
            bundle.clone(),
        );
        let reloads = Family::<Labels, Counter>::default();
        registry.register(
            "bundle_reloads",
            "Bundle reloads by outcome (loaded, failed)",
            reloads.clone(),
        );
        let audit_failures = Counter::default();
        registry.register(
            "audit_failures",
            "Audit records that could not be written (the request failed closed)",
            audit_failures.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            decisions,
            bundle,
            reloads,
            audit_failures,
        }
    }

    /// Counts a request and its latency (no allocation: the labels are a route pattern and a
    /// status code).
    pub fn request(&self, route: &'static str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { route, status })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(seconds);
    }

    /// Counts `n` decisions of a kind with an outcome.
    pub fn decisions(&self, kind: &'static str, outcome: &'static str, n: u64) {
        if n > 0 {
            self.decisions
                .get_or_create(&DecisionLabels { kind, outcome })
                .inc_by(n);
        }
    }

    /// Sets the bundle version serving (the previous one drops to 0).
    pub fn bundle_version(&self, version: &str) {
        self.bundle.clear();
        self.bundle
            .get_or_create(&vec![("version", version.to_owned())])
            .set(1);
    }

    /// Counts a reload.
    pub fn reload(&self, outcome: &'static str) {
        self.reloads
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    /// Counts an audit failure.
    pub fn audit_failure(&self) {
        self.audit_failures.inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
