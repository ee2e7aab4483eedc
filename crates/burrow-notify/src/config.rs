//! The `[notifier.<name>]` section of `burrow.toml`: every key of the `http`, `email` and `null`
//! classes (custom classes read the same section), their checks, and their conversion into a
//! [`Policy`], [`Templates`] and a built-in [`Notifier`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use burrow_core::config::{
    check_host_port, none_as_default, refuse_renamed_lists, Bounded, Seconds, MAX_SECONDS,
};

use crate::{
    EmailNotifier, EmailSettings, GroupFilter, HttpNotifier, HttpSettings, Notifier, NotifyError,
    NullNotifier, Policy, SmtpAuth, Templates,
};

/// `[notifier.X]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct NotifierConfig {
    /// `http`, `email`, `null` or a class a program added.
    pub class_name: String,
    /// Time between evaluations of each group (default 60 s).
    pub interval: Seconds<1, MAX_SECONDS>,
    /// Time between two open notifications of an incident (default: `interval`).
    #[serde(serialize_with = "none_as_default")]
    pub send_interval: Option<Seconds<1, MAX_SECONDS>>,
    /// Minimum status to notify: 1 OK, 2 WARN, 3 ERR (default 2).
    pub threshold: Bounded<1, 3>,
    /// Only groups matching this regex.
    pub group_allowlist: String,
    /// Not groups matching this regex.
    pub group_denylist: String,
    /// Strings exposed to templates.
    pub extras: BTreeMap<String, String>,
    /// Template of open notifications.
    pub template_open: String,
    /// Template of close notifications.
    pub template_close: String,
    /// Send close notifications.
    pub send_close: bool,
    /// Send only the first open notification of an incident.
    pub send_once: bool,
    /// http: URL template of open notifications.
    pub url_open: String,
    /// http: URL template of close notifications.
    pub url_close: String,
    /// http: method of open notifications.
    pub method_open: String,
    /// http: method of close notifications.
    pub method_close: String,
    /// http: request timeout (default 5 s).
    pub timeout: Seconds<1, 3600>,
    /// http: TCP keepalive (default 300 s).
    pub keepalive: Seconds<1, 86_400>,
    /// http: no connection reuse.
    pub disable_http_keepalive: bool,
    /// http: extra headers.
    pub headers: BTreeMap<String, String>,
    /// http/email: user name.
    pub username: String,
    /// http/email: password.
    pub password: String,
    /// http/email: extra CA file.
    pub extra_ca: String,
    /// http/email: skip certificate verification.
    #[serde(serialize_with = "none_as_default")]
    pub noverify: Option<bool>,
    /// email: SMTP server.
    pub server: String,
    /// email: SMTP port.
    pub port: Bounded<0, 65535>,
    /// email: sender.
    pub from: String,
    /// email: recipients, comma-separated.
    pub to: String,
    /// email: "", plain or login.
    pub auth_type: String,
    /// Burrow's old key: rejected with the new name.
    #[serde(skip_serializing)]
    pub group_whitelist: Option<String>,
    /// Burrow's old key: rejected with the new name.
    #[serde(skip_serializing)]
    pub group_blacklist: Option<String>,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            class_name: String::new(),
            interval: Seconds::new(60),
            send_interval: None,
            threshold: Bounded::new(2),
            group_allowlist: String::new(),
            group_denylist: String::new(),
            extras: BTreeMap::new(),
            template_open: String::new(),
            template_close: String::new(),
            send_close: false,
            send_once: false,
            url_open: String::new(),
            url_close: String::new(),
            method_open: "POST".into(),
            method_close: "POST".into(),
            timeout: Seconds::new(5),
            keepalive: Seconds::new(300),
            disable_http_keepalive: false,
            headers: BTreeMap::new(),
            username: String::new(),
            password: String::new(),
            extra_ca: String::new(),
            noverify: None,
            server: String::new(),
            port: Bounded::new(0),
            from: String::new(),
            to: String::new(),
            auth_type: String::new(),
            group_whitelist: None,
            group_blacklist: None,
        }
    }
}

/// The classes this crate builds.
const BUILT_IN: &[&str] = &["http", "email", "null"];

impl NotifierConfig {
    /// True for `http`, `email` and `null`.
    pub fn is_built_in(&self) -> bool {
        BUILT_IN.contains(&self.class_name.as_str())
    }

    /// True for a class that a program may have added: not built in, not one Burrow removed
    /// (`slack`), not empty.
    pub fn may_be_custom(&self) -> bool {
        !self.is_built_in() && !matches!(self.class_name.as_str(), "slack" | "")
    }

    /// The section's own checks (`key` is `notifier.<name>`); `custom` says that a program added
    /// the section's class (its sections need no `template-open`).
    pub fn validate(&self, key: &str, custom: bool) -> Result<(), NotifyError> {
        let err = |k: &str, message: &str| NotifyError::Config {
            key: format!("{key}.{k}"),
            message: message.to_string(),
        };
        refuse_renamed_lists(key, &self.group_whitelist, &self.group_blacklist)?;
        match self.class_name.as_str() {
            _ if self.is_built_in() || custom => {}
            "slack" => return Err(err("class-name", "the slack class was removed from Burrow 1.x; use class-name = \"http\" with a Slack template")),
            other => return Err(err("class-name", &format!("unknown notifier class {other:?} (expected http, email or null)"))),
        }
        if self.template_open.is_empty() && !custom {
            return Err(template_open_required(key));
        }
        if self.send_close && self.template_close.is_empty() {
            return Err(err("template-close", "required with send-close = true"));
        }
        match self.class_name.as_str() {
            "http" if self.url_open.is_empty() => Err(err("url-open", "required")),
            "email" => self.validate_email(key),
            _ => Ok(()),
        }
    }

    fn validate_email(&self, key: &str) -> Result<(), NotifyError> {
        for (k, v) in [("from", &self.from), ("to", &self.to)] {
            if v.is_empty() {
                return Err(NotifyError::Config {
                    key: format!("{key}.{k}"),
                    message: "required".into(),
                });
            }
        }
        let address = format!("{}:{}", self.server, self.port);
        check_host_port(&format!("{key}.server"), &address, false)?;
        if self.port.get() == 0 {
            return Err(NotifyError::Config {
                key: format!("{key}.port"),
                message: "required (the SMTP server's port)".into(),
            });
        }
        SmtpAuth::parse(&format!("{key}.auth-type"), &self.auth_type)?;
        Ok(())
    }

    /// The group allow/deny lists.
    pub fn filter(&self, key: &str) -> Result<GroupFilter, NotifyError> {
        Ok(GroupFilter::new(
            &self.group_allowlist,
            &self.group_denylist,
            key,
        )?)
    }

    /// Burrow's policy keys.
    pub fn policy(&self, key: &str) -> Result<Policy, NotifyError> {
        let interval = self.interval.secs() as i64;
        Ok(Policy {
            interval,
            send_interval: self.send_interval.map_or(interval, |s| s.secs() as i64),
            threshold: self.threshold.get() as i32,
            send_once: self.send_once,
            send_close: self.send_close,
            filter: self.filter(key)?,
        })
    }

    /// The section's templates, read and test-rendered, when `template-open` is set.
    pub fn templates(&self, key: &str) -> Result<Option<Templates>, NotifyError> {
        if self.template_open.is_empty() {
            return Ok(None);
        }
        let close = (!self.template_close.is_empty()).then(|| Path::new(&self.template_close));
        Templates::from_files(Path::new(&self.template_open), close, &self.extras)
            .map(Some)
            .map_err(|e| match e {
                NotifyError::Config { key: k, message } if k.is_empty() => NotifyError::Config {
                    key: format!("{key}.template-open"),
                    message,
                },
                other => other,
            })
    }

    /// The notifier of a built-in class ([`NotifierConfig::is_built_in`]), its templates, URLs,
    /// TLS files and addresses checked now; an error for other classes.
    pub fn build_built_in(
        &self,
        key: &str,
        templates: Option<Templates>,
    ) -> Result<Arc<dyn Notifier>, NotifyError> {
        let required = |t: Option<Templates>| t.ok_or_else(|| template_open_required(key));
        match self.class_name.as_str() {
            "null" => Ok(Arc::new(NullNotifier::default())),
            "http" => required(templates).and_then(|t| self.http(key, t)),
            "email" => required(templates).and_then(|t| self.email(key, t)),
            other => Err(NotifyError::Config {
                key: format!("{key}.class-name"),
                message: format!("{other:?} is not a built-in class"),
            }),
        }
    }

    fn http(&self, key: &str, templates: Templates) -> Result<Arc<dyn Notifier>, NotifyError> {
        // Burrow requires url-close with send-close, yet its own example config has send-close
        // without it: close notifications then go to url-open.
        let close = if self.url_close.is_empty() {
            self.send_close.then_some(self.url_open.as_str())
        } else {
            Some(self.url_close.as_str())
        };
        let templates = templates.with_urls(key, &self.url_open, close, &self.extras)?;
        let settings = HttpSettings {
            method_open: self.method_open.clone(),
            method_close: self.method_close.clone(),
            timeout: self.timeout.get(),
            keepalive: self.keepalive.get(),
            disable_keepalive: self.disable_http_keepalive,
            headers: self.headers.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            extra_ca: path(&self.extra_ca),
            noverify: self.noverify.unwrap_or(false),
        };
        Ok(Arc::new(HttpNotifier::new(key, templates, settings)?))
    }

    fn email(&self, key: &str, templates: Templates) -> Result<Arc<dyn Notifier>, NotifyError> {
        self.validate_email(key)?;
        let settings = EmailSettings {
            server: self.server.clone(),
            port: self.port.get() as u16,
            require_starttls: false,
            from: self.from.clone(),
            to: self
                .to
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            auth: SmtpAuth::parse(&format!("{key}.auth-type"), &self.auth_type)?,
            username: self.username.clone(),
            password: self.password.clone(),
            extra_ca: path(&self.extra_ca),
            noverify: self.noverify.unwrap_or(false),
            timeout: Duration::from_secs(30),
        };
        Ok(Arc::new(EmailNotifier::new(key, templates, settings)?))
    }
}

/// The built-in classes render every notification with a template.
fn template_open_required(key: &str) -> NotifyError {
    NotifyError::Config {
        key: format!("{key}.template-open"),
        message: "required".into(),
    }
}

fn path(p: &str) -> Option<PathBuf> {
    (!p.is_empty()).then(|| PathBuf::from(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(e: NotifyError) -> String {
        match e {
            NotifyError::Config { key, .. } => key,
            other => panic!("not a config error: {other}"),
        }
    }

    #[test]
    fn checks_name_the_key() {
        let http = NotifierConfig {
            class_name: "http".into(),
            template_open: "open.tmpl".into(),
            url_open: "http://alerts/".into(),
            ..NotifierConfig::default()
        };
        assert!(http.validate("notifier.n", false).is_ok());
        let no_url = NotifierConfig {
            url_open: String::new(),
            ..http.clone()
        };
        assert_eq!(
            key_of(no_url.validate("notifier.n", false).unwrap_err()),
            "notifier.n.url-open"
        );
        let slack = NotifierConfig {
            class_name: "slack".into(),
            ..http.clone()
        };
        assert_eq!(
            key_of(slack.validate("notifier.n", false).unwrap_err()),
            "notifier.n.class-name"
        );
        let pager = NotifierConfig {
            class_name: "pager".into(),
            template_open: String::new(),
            ..http.clone()
        };
        assert!(pager.validate("notifier.n", true).is_ok());
        let email = NotifierConfig {
            class_name: "email".into(),
            template_open: "open.tmpl".into(),
            server: "smtp".into(),
            from: "a@example.com".into(),
            to: "b@example.com".into(),
            ..NotifierConfig::default()
        };
        assert_eq!(
            key_of(email.validate("notifier.m", false).unwrap_err()),
            "notifier.m.port"
        );
    }

    #[test]
    fn policy_defaults_send_interval_to_interval() {
        let p = NotifierConfig::default().policy("notifier.n").unwrap();
        assert_eq!((p.interval, p.send_interval, p.threshold), (60, 60, 2));
    }
}
