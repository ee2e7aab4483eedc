//! The notifier classes a program adds with [`Extensions`], beside `burrow-notify`'s built-in
//! `http`, `email` and `null`. Extensions are passed explicitly: to [`crate::main_with`], to
//! [`crate::Settings::check`] and to [`crate::Server::build`].

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use burrow_notify::{Notifier, NotifierConfig, NotifyError, Templates};

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

    /// True when the program added this class.
    pub fn has_class(&self, class: &str) -> bool {
        self.classes.contains_key(class)
    }

    /// The notifier of a section of one of these classes.
    pub(crate) fn build_custom(
        &self,
        name: &str,
        config: &NotifierConfig,
        templates: Option<Templates>,
    ) -> Result<Arc<dyn Notifier>> {
        let class = config.class_name.as_str();
        let Some(factory) = self.classes.get(class) else {
            bail!(
                "notifier.{name}.class-name: unknown notifier class {class:?} (expected http, \
                 email, null or a class the program added)"
            );
        };
        factory(NotifierSection {
            name,
            config,
            templates,
        })
        .with_context(|| format!("notifier.{name}: class {class}"))
    }
}
