//! The `email` notifier on lettre: SMTP with STARTTLS or implicit TLS, optional auth.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{Notification, Notifier, NotifyError, Templates};

/// SMTP authentication (`auth-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpAuth {
    /// No authentication (`""`).
    None,
    /// AUTH PLAIN (`plain`).
    Plain,
    /// AUTH LOGIN (`login`; not in Burrow).
    Login,
}

impl SmtpAuth {
    /// Parses `auth-type` (case-insensitive). Burrow's `crammd5` is refused: lettre does not
    /// implement it.
    pub fn parse(key: &str, s: &str) -> Result<Self, NotifyError> {
        match s.to_ascii_lowercase().as_str() {
            "" => Ok(SmtpAuth::None),
            "plain" => Ok(SmtpAuth::Plain),
            "login" => Ok(SmtpAuth::Login),
            other => Err(NotifyError::Config {
                key: key.to_string(),
                message: format!(
                    "unsupported auth-type {other:?} (use \"\", \"plain\" or \"login\"; CRAM-MD5 is not supported)"
                ),
            }),
        }
    }
}

/// The `email` keys of a `[notifier.X]` section.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// SMTP server host.
    pub server: String,
    /// SMTP port: 465 is implicit TLS; any other uses STARTTLS when the server offers it
    /// (gomail's behaviour, which Burrow used), or always with `require_starttls`.
    pub port: u16,
    /// Refuse to send without STARTTLS (not in Burrow).
    pub require_starttls: bool,
    /// Sender address.
    pub from: String,
    /// Recipients (Burrow's `to`, comma-separated there).
    pub to: Vec<String>,
    /// Authentication.
    pub auth: SmtpAuth,
    /// User name for auth.
    pub username: String,
    /// Password for auth.
    pub password: String,
    /// A PEM file of CA certificates trusted besides the system's.
    pub extra_ca: Option<PathBuf>,
    /// Accept any server certificate.
    pub noverify: bool,
    /// Timeout of the whole SMTP exchange (connect, TLS, every command and the message): lettre
    /// bounds only the connect, so a server that accepts and then stays silent is cut off here.
    pub timeout: Duration,
}

/// Sends each notification as an email. The rendered template must start with `Subject: `;
/// `Content-Type: ` lines set the body's type (default `text/plain`), `MIME-version: ` lines are
/// dropped, every other line is the body — Burrow's format.
#[derive(Debug)]
pub struct EmailNotifier {
    templates: Templates,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    timeout: Duration,
}

impl EmailNotifier {
    /// Builds the notifier; `key` (e.g. `notifier.mail`) names the section in errors.
    pub fn new(key: &str, templates: Templates, s: EmailSettings) -> Result<Self, NotifyError> {
        let config = |k: &str, message: String| NotifyError::Config {
            key: format!("{key}.{k}"),
            message,
        };
        if s.server.is_empty() {
            return Err(config("server", "required".into()));
        }
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| config("from", format!("{:?}: {e}", s.from)))?;
        let to =
            s.to.iter()
                .map(|t| {
                    t.trim()
                        .parse::<Mailbox>()
                        .map_err(|e| config("to", format!("{t:?}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(config("to", "required".into()));
        }
        let mut tls =
            TlsParameters::builder(s.server.clone()).dangerous_accept_invalid_certs(s.noverify);
        if let Some(ca) = s.extra_ca.as_ref().filter(|_| !s.noverify) {
            let pem = std::fs::read(ca)
                .map_err(|e| config("extra-ca", format!("{}: {e}", ca.display())))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| config("extra-ca", format!("{}: {e}", ca.display())))?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls
            .build()
            .map_err(|e| config("server", format!("TLS: {e}")))?;
        let tls = if s.port == 465 {
            Tls::Wrapper(tls)
        } else if s.require_starttls {
            Tls::Required(tls)
        } else {
            Tls::Opportunistic(tls)
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.server)
            .port(s.port)
            .tls(tls)
            .timeout(Some(s.timeout));
        let mechanism = match s.auth {
            SmtpAuth::None => None,
            SmtpAuth::Plain => Some(Mechanism::Plain),
            SmtpAuth::Login => Some(Mechanism::Login),
        };
        if let Some(m) = mechanism {
            builder = builder
                .credentials(Credentials::new(s.username.clone(), s.password.clone()))
                .authentication(vec![m]);
        }
        Ok(EmailNotifier {
            templates,
            transport: builder.build(),
            from,
            to,
            timeout: s.timeout,
        })
    }
}

/// Splits a rendered email template into subject, content type and body (Burrow's rules).
pub(crate) fn parse_rendered(text: &str) -> Result<(String, ContentType, String), NotifyError> {
    if !text.starts_with("Subject: ") {
        return Err(NotifyError::Permanent(
            "the rendered email does not start with \"Subject: \"".into(),
        ));
    }
    let mut subject = None;
    let mut content_type = ContentType::TEXT_PLAIN;
    let mut body = Vec::new();
    for line in text.lines() {
        if subject.is_none() {
            if let Some(s) = line.strip_prefix("Subject: ") {
                subject = Some(s.to_string());
                continue;
            }
        }
        if let Some(ct) = line.strip_prefix("Content-Type: ") {
            content_type = ContentType::parse(ct.trim())
                .map_err(|e| NotifyError::Permanent(format!("Content-Type {ct:?}: {e}")))?;
            continue;
        }
        if line.starts_with("MIME-version: ") || line.starts_with("MIME-Version: ") {
            continue;
        }
        body.push(line);
    }
    let body = body.join("\n").trim_start_matches('\n').to_string();
    Ok((subject.unwrap_or_default(), content_type, body))
}

#[async_trait]
impl Notifier for EmailNotifier {
    async fn notify(&self, n: &Notification) -> Result<(), NotifyError> {
        let text = self.templates.render(n)?;
        let (subject, content_type, body) = parse_rendered(&text)?;
        let mut message = Message::builder().from(self.from.clone()).subject(subject);
        for to in &self.to {
            message = message.to(to.clone());
        }
        let message = message
            .header(content_type)
            .body(body)
            .map_err(|e| NotifyError::Permanent(format!("building the message: {e}")))?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(NotifyError::Permanent(e.to_string())),
            Ok(Err(e)) => Err(NotifyError::Delivery(e.to_string())),
            Err(_) => Err(NotifyError::Delivery(format!(
                "no answer from the SMTP server within {:?}",
                self.timeout
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_email_is_split_like_burrow() {
        let (s, ct, body) = parse_rendered(
            "Subject: [Burrow] lag\nMIME-version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<p>x</p>\nend",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s, "[Burrow] lag");
        assert_eq!(ct, ContentType::TEXT_HTML);
        assert_eq!(body, "<p>x</p>\nend");
        assert!(matches!(
            parse_rendered("Hello\nSubject: x"),
            Err(NotifyError::Permanent(_))
        ));
        assert!(SmtpAuth::parse("notifier.m.auth-type", "CRAMMD5").is_err());
        assert_eq!(SmtpAuth::parse("k", "PLAIN").ok(), Some(SmtpAuth::Plain));
    }
}
