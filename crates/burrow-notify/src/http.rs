//! The `http` notifier: webhooks (and Slack incoming webhooks) with templated URLs and bodies.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use tracing::debug;

use crate::{Notification, NotificationKind, Notifier, NotifyError, Templates};

/// The `http` keys of a `[notifier.X]` section, with Burrow's defaults.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Method of open notifications (`method-open`, POST).
    pub method_open: String,
    /// Method of close notifications (`method-close`, POST).
    pub method_close: String,
    /// Whole-request timeout (`timeout`, 5 s).
    pub timeout: Duration,
    /// TCP keepalive of connections (`keepalive`, 300 s).
    pub keepalive: Duration,
    /// No connection reuse (`disable-http-keepalive`).
    pub disable_keepalive: bool,
    /// Headers set after `Content-Type: application/json`, so they can override it.
    pub headers: BTreeMap<String, String>,
    /// Basic auth user (none when empty).
    pub username: String,
    /// Basic auth password.
    pub password: String,
    /// A PEM file of CA certificates trusted besides the system's.
    pub extra_ca: Option<PathBuf>,
    /// Accept any server certificate.
    pub noverify: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            method_open: "POST".into(),
            method_close: "POST".into(),
            timeout: Duration::from_secs(5),
            keepalive: Duration::from_secs(300),
            disable_keepalive: false,
            headers: BTreeMap::new(),
            username: String::new(),
            password: String::new(),
            extra_ca: None,
            noverify: false,
        }
    }
}

/// Sends each notification as an HTTP request: URL from `url-open`/`url-close`, body from the
/// templates. 2xx is success; 408, 429 and 5xx are retried; other statuses are permanent.
#[derive(Debug)]
pub struct HttpNotifier {
    templates: Templates,
    client: reqwest::Client,
    method_open: Method,
    method_close: Method,
    headers: HeaderMap,
    username: String,
    password: String,
}

impl HttpNotifier {
    /// Builds the notifier; `key` (e.g. `notifier.ops`) names the section in errors.
    pub fn new(key: &str, templates: Templates, s: HttpSettings) -> Result<Self, NotifyError> {
        let config = |k: &str, message: String| NotifyError::Config {
            key: format!("{key}.{k}"),
            message,
        };
        let method = |k: &str, m: &str| {
            Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| config(k, format!("not an HTTP method: {m:?}")))
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &s.headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| config("headers", format!("{name}: {e}")))?;
            let v = HeaderValue::from_str(value)
                .map_err(|e| config("headers", format!("{name}: {e}")))?;
            headers.insert(n, v);
        }
        let mut builder = reqwest::Client::builder()
            .timeout(s.timeout)
            .tcp_keepalive(s.keepalive)
            .danger_accept_invalid_certs(s.noverify);
        if s.disable_keepalive {
            builder = builder.pool_max_idle_per_host(0);
        }
        if let Some(ca) = s.extra_ca.as_ref().filter(|_| !s.noverify) {
            let pem = std::fs::read(ca)
                .map_err(|e| config("extra-ca", format!("{}: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| config("extra-ca", format!("{}: {e}", ca.display())))?;
            if certs.is_empty() {
                return Err(config(
                    "extra-ca",
                    format!("{}: no certificate in the file", ca.display()),
                ));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let client = builder
            .build()
            .map_err(|e| config("class-name", format!("HTTP client: {e}")))?;
        Ok(HttpNotifier {
            templates,
            client,
            method_open: method("method-open", &s.method_open)?,
            method_close: method("method-close", &s.method_close)?,
            headers,
            username: s.username,
            password: s.password,
        })
    }
}

#[async_trait]
impl Notifier for HttpNotifier {
    async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        let url = self.templates.render_url(n)?;
        let body = self.templates.render(n)?;
        let method = match n.kind {
            NotificationKind::Open => self.method_open.clone(),
            NotificationKind::Close => self.method_close.clone(),
        };
        let mut req = self
            .client
            .request(method, &url)
            .headers(self.headers.clone())
            .body(body);
        if !self.username.is_empty() {
            req = req.basic_auth(&self.username, Some(&self.password));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| NotifyError::Delivery(format!("{url}: {}", error_chain(&e))))?;
        let status = resp.status();
        if status.is_success() {
            debug!(url, %status, group = %n.group, "notification sent");
            return Ok(());
        }
        let message = format!("{url}: HTTP {status}");
        if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
            Err(NotifyError::Delivery(message))
        } else {
            Err(NotifyError::Permanent(message))
        }
    }
}

/// An error with its causes, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
