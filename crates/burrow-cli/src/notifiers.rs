//! `[notifier.*]` sections turned into `burrow-notify` modules, and the notifier classes a
//! program adds with [`Extensions`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use burrow_notify::{
    EmailNotifier, EmailSettings, GroupFilter, HttpNotifier, HttpSettings, Module, Notifier,
    NotifyError, NullNotifier, Policy, RetryPolicy, SmtpAuth, Templates,
};

use crate::config::{Config, NotifierConfig};

/// What a notifier class is given to build its notifier.
#[derive(Debug)]
pub struct NotifierSection<'a> {
    /// Module name (`[notifier.<name>]`).
    pub name: &'a str,
    /// The section's keys (the policy keys are applied by the server, not the class).
    pub config: &'a NotifierConfig,
    /// The section's templates, when `template-open` is set.
    pub templates: Option<Templates>,
}

/// Builds a notifier of a custom class from its section.
pub type NotifierFactory =
    Arc<dyn Fn(NotifierSection<'_>) -> Result<Arc<dyn Notifier>, NotifyError> + Send + Sync>;

/// What a program adds to `burrow-cli`: notifier classes usable as `class-name` in
/// `[notifier.*]` sections, beside `http`, `email` and `null`.
#[derive(Clone, Default)]
pub struct Extensions {
    classes: BTreeMap<String, NotifierFactory>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("classes", &self.classes.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Extensions {
    /// Adds a notifier class. Its sections take every policy key (`interval`, `send-interval`,
    /// `threshold`, `send-once`, `send-close`, group lists, `extras`); `template-open` is
    /// optional for them.
    pub fn notifier_class(
        mut self,
        class: &str,
        factory: impl Fn(NotifierSection<'_>) -> Result<Arc<dyn Notifier>, NotifyError>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.classes.insert(class.to_string(), Arc::new(factory));
        self
    }
}

static EXTENSIONS: OnceLock<Extensions> = OnceLock::new();

/// Makes the extensions known to config checking and to `serve` (once per process).
pub(crate) fn register(extensions: Extensions) {
    let _ = EXTENSIONS.set(extensions);
}

/// True when a program registered this notifier class.
pub(crate) fn is_custom_class(class: &str) -> bool {
    EXTENSIONS
        .get()
        .is_some_and(|e| e.classes.contains_key(class))
}

fn path(p: &str) -> Option<PathBuf> {
    (!p.is_empty()).then(|| PathBuf::from(p))
}

/// The policy keys of a section.
fn policy(key: &str, n: &NotifierConfig) -> Result<Policy> {
    Ok(Policy {
        interval: n.interval,
        send_interval: n.send_interval.unwrap_or(n.interval),
        threshold: n.threshold as i32,
        send_once: n.send_once,
        send_close: n.send_close,
        filter: GroupFilter::new(&n.group_allowlist, &n.group_denylist, key)?,
    })
}

/// Builds every notifier module of the config: templates read and test-rendered, TLS files
/// read, addresses parsed. Any error names its key (or template file and line).
pub fn build(config: &Config) -> Result<Vec<Module>> {
    let mut out = Vec::new();
    for (name, n) in &config.notifiers {
        let key = format!("notifier.{name}");
        let templates = if n.template_open.is_empty() {
            None
        } else {
            let close = (!n.template_close.is_empty()).then(|| Path::new(&n.template_close));
            Some(
                Templates::from_files(Path::new(&n.template_open), close, &n.extras)
                    .with_context(|| format!("{key}.template-open / template-close"))?,
            )
        };
        let notifier: Arc<dyn Notifier> = match n.class_name.as_str() {
            "null" => Arc::new(NullNotifier::default()),
            "http" => {
                let Some(t) = templates else {
                    bail!("{key}.template-open: required");
                };
                // Burrow requires url-close with send-close, yet its own example config has
                // send-close without it: close notifications then go to url-open.
                let close = if n.url_close.is_empty() {
                    n.send_close.then_some(n.url_open.as_str())
                } else {
                    Some(n.url_close.as_str())
                };
                let t = t.with_urls(&key, &n.url_open, close, &n.extras)?;
                let settings = HttpSettings {
                    method_open: n.method_open.clone(),
                    method_close: n.method_close.clone(),
                    timeout: Duration::from_secs(n.timeout.max(1) as u64),
                    keepalive: Duration::from_secs(n.keepalive.max(1) as u64),
                    disable_keepalive: n.disable_http_keepalive,
                    headers: n.headers.clone(),
                    username: n.username.clone(),
                    password: n.password.clone(),
                    extra_ca: path(&n.extra_ca),
                    noverify: n.noverify.unwrap_or(false),
                };
                Arc::new(HttpNotifier::new(&key, t, settings)?)
            }
            "email" => {
                let Some(t) = templates else {
                    bail!("{key}.template-open: required");
                };
                let port = u16::try_from(n.port)
                    .ok()
                    .filter(|p| *p > 0)
                    .with_context(|| format!("{key}.port: not a port: {}", n.port))?;
                let settings = EmailSettings {
                    server: n.server.clone(),
                    port,
                    require_starttls: false,
                    from: n.from.clone(),
                    to: n
                        .to
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                    auth: SmtpAuth::parse(&format!("{key}.auth-type"), &n.auth_type)?,
                    username: n.username.clone(),
                    password: n.password.clone(),
                    extra_ca: path(&n.extra_ca),
                    noverify: n.noverify.unwrap_or(false),
                    timeout: Duration::from_secs(30),
                };
                Arc::new(EmailNotifier::new(&key, t, settings)?)
            }
            class => {
                let Some(factory) = EXTENSIONS.get().and_then(|e| e.classes.get(class)) else {
                    bail!("{key}.class-name: unknown notifier class {class:?}");
                };
                factory(NotifierSection {
                    name,
                    config: n,
                    templates,
                })
                .with_context(|| format!("{key}: class {class}"))?
            }
        };
        out.push(Module {
            name: name.clone(),
            policy: policy(&key, n)?,
            extras: Arc::new(n.extras.clone()),
            notifier,
            retry: RetryPolicy::default(),
        });
    }
    Ok(out)
}
