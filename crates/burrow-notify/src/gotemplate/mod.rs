//! Burrow's notifier templates as they are: Go `text/template` syntax, Burrow's data model and
//! helper functions, rendering the bytes Go renders (Go's own `text/template` is the oracle:
//! `tests/go_templates.rs`).
//!
//! The engine is `gotmpl` (vendored in `vendor/gotmpl`, extended with typed Go values: fields,
//! methods such as `.Start.Format` and `.Status.String`, and Go's printing); this module
//! supplies the data ([`data`]), `time.Time` ([`time`]), `encoding/json` ([`json`]) and the
//! helpers ([`helpers`]).

mod data;
mod helpers;
mod json;
mod time;

use gotmpl::{Template, TemplateError};

use crate::Notification;

/// The name Burrow gives every notifier template.
const NAME: &str = "notifier";

/// A parsed Go template.
#[derive(Clone)]
pub struct GoTemplate {
    template: Template,
}

impl std::fmt::Debug for GoTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoTemplate").finish_non_exhaustive()
    }
}

impl GoTemplate {
    /// Parses `source` as Burrow does: with its helper functions for a body template, without
    /// them for a URL (`url-open`, `url-close`).
    pub fn parse(source: &str, with_helpers: bool) -> Result<GoTemplate, TemplateError> {
        let mut template = Template::new(NAME);
        if with_helpers {
            for (name, f) in helpers::functions() {
                template = template.func(name, move |args| f(args));
            }
        }
        Ok(GoTemplate {
            template: template.parse(source)?,
        })
    }

    /// Renders the template for a notification.
    pub fn render(&self, n: &Notification) -> Result<String, TemplateError> {
        self.template
            .execute_to_string_located(&data::notification_value(n))
    }
}

/// The 1-based line an error names (0 when it names none).
pub fn error_line(e: &TemplateError) -> usize {
    match e {
        TemplateError::Parse { line, .. }
        | TemplateError::Lex { line, .. }
        | TemplateError::At { line, .. } => *line,
        _ => 0,
    }
}
