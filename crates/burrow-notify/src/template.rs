//! Notification templates on minijinja, with the data and helpers of Burrow's Go templates.
//!
//! Variables keep Burrow's names: `Cluster`, `Group`, `ID` (also `Id`), `Start` (incident start,
//! ms since the epoch, 0 without an incident), `Extras` (the notifier's `extras`), and `Result`
//! with `Cluster`, `Group`, `Status`, `Complete`, `Partitions`, `TotalPartitions`, `Maxlag`,
//! `TotalLag`; each partition has `Topic`, `Partition`, `Owner`, `ClientID`, `Status`, `Start`,
//! `End`, `CurrentLag`, `Complete`; each offset `Offset`, `Timestamp`, `ObservedTimestamp`, `Lag`.
//! Statuses are their names (`"WARN"`), as in the HTTP API.
//!
//! Helpers (as functions and as filters): `jsonencoder` (JSON with the HTTP API's field names),
//! `topicsbystatus`, `partitioncounts`, `add`, `minus`, `multiply`, `divide`, `maxlag`, and
//! `formattimestamp(ms, format)` with strftime formats in the local time zone.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use burrow_core::{ConsumerGroupStatus, ConsumerOffset, PartitionStatus, Status};
use burrow_eval::timing::{to_millisecond, GroupTiming, Timing};
use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};

use crate::gotemplate::GoTemplate;
use crate::{Notification, NotificationKind, NotifyError};
use tracing::debug;

/// An f32 as the f64 with the same shortest decimal form (0.6f32 → 0.6, not 0.6000000238…):
/// how Go prints a float32, for both template engines.
pub(crate) fn shortest_f64(v: f32) -> f64 {
    v.to_string().parse::<f64>().unwrap_or(f64::from(v))
}

fn go_f32(v: f32) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Value::from(v as i64)
    } else {
        Value::from(shortest_f64(v))
    }
}

fn status_value(s: Status) -> Value {
    Value::from(s.as_str())
}

#[derive(Debug)]
struct OffsetObj(ConsumerOffset);

impl Object for OffsetObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let o = &self.0;
        Some(match key.as_str()? {
            "Offset" => Value::from(o.offset),
            "Timestamp" => Value::from(o.timestamp),
            "ObservedTimestamp" => Value::from(o.observed_at),
            "Lag" => o.lag.map_or(Value::from(()), Value::from),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["Offset", "Timestamp", "ObservedTimestamp", "Lag"])
    }
}

#[derive(Debug)]
struct PartitionObj(PartitionStatus, Option<Timing>);

impl PartitionObj {
    fn new(p: &PartitionStatus, timing: Option<&GroupTiming>) -> Self {
        PartitionObj(
            p.clone(),
            timing.and_then(|t| t.partition(&p.topic, p.partition)),
        )
    }
}

/// burrow-rs's lag in time and drain fields of both engines, by name: `LagSeconds`,
/// `LagSecondsEstimated`, `Drain`, `DrainSeconds` (not enumerated by Jinja: JSON and iteration
/// show Burrow's fields).
pub(crate) enum TimingField {
    /// Seconds to the millisecond.
    Seconds(f64),
    /// Not known.
    Nothing,
    /// A yes or no.
    Flag(bool),
    /// A state's name.
    Word(&'static str),
}

/// The field `name` of `t` (a partition's or the group's timing), or `None` for other names.
pub(crate) fn timing_field(t: Option<Timing>, name: &str) -> Option<TimingField> {
    let seconds = |s: Option<f64>| {
        s.map_or(TimingField::Nothing, |s| {
            TimingField::Seconds(to_millisecond(s))
        })
    };
    Some(match name {
        "LagSeconds" => seconds(t.and_then(|t| t.seconds)),
        "LagSecondsEstimated" => TimingField::Flag(t.is_some_and(|t| t.estimate.is_some())),
        "Drain" => TimingField::Word(t.map_or("unknown", |t| t.drain.state())),
        "DrainSeconds" => seconds(t.and_then(|t| t.drain.seconds())),
        _ => return None,
    })
}

/// [`timing_field`] as a Jinja value.
fn timing_value(t: Option<Timing>, name: &str) -> Option<Value> {
    Some(match timing_field(t, name)? {
        TimingField::Seconds(s) => Value::from(s),
        TimingField::Nothing => Value::from(()),
        TimingField::Flag(b) => Value::from(b),
        TimingField::Word(w) => Value::from(w),
    })
}

fn offset_value(o: &Option<ConsumerOffset>) -> Value {
    o.map_or(Value::from(()), |o| Value::from_object(OffsetObj(o)))
}

impl Object for PartitionObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let p = &self.0;
        Some(match key.as_str()? {
            "Topic" => Value::from(p.topic.clone()),
            "Partition" => Value::from(p.partition),
            "Owner" => Value::from(p.owner.clone()),
            "ClientID" => Value::from(p.client_id.clone()),
            "Status" => status_value(p.status),
            "Start" => offset_value(&p.start),
            "End" => offset_value(&p.end),
            "CurrentLag" => Value::from(p.current_lag),
            "Complete" => go_f32(p.complete),
            other => return timing_value(self.1, other),
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "Topic",
            "Partition",
            "Owner",
            "ClientID",
            "Status",
            "Start",
            "End",
            "CurrentLag",
            "Complete",
        ])
    }
}

#[derive(Debug)]
struct ResultObj(Arc<ConsumerGroupStatus>, Option<Arc<GroupTiming>>);

impl Object for ResultObj {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let r = &self.0;
        Some(match key.as_str()? {
            "Cluster" => Value::from(r.cluster.clone()),
            "Group" => Value::from(r.group.clone()),
            "Status" => status_value(r.status),
            "Complete" => go_f32(r.complete),
            "Partitions" => Value::from(
                r.partitions
                    .iter()
                    .map(|p| Value::from_object(PartitionObj::new(p, self.1.as_deref())))
                    .collect::<Vec<_>>(),
            ),
            "TotalPartitions" => Value::from(r.partition_count),
            "Maxlag" => r.maxlag.as_ref().map_or(Value::from(()), |p| {
                Value::from_object(PartitionObj::new(p, self.1.as_deref()))
            }),
            "TotalLag" => Value::from(r.totallag),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&[
            "Cluster",
            "Group",
            "Status",
            "Complete",
            "Partitions",
            "TotalPartitions",
            "Maxlag",
            "TotalLag",
        ])
    }
}

#[derive(Debug)]
struct ContextObj(Notification);

impl Object for ContextObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let n = &self.0;
        Some(match key.as_str()? {
            "Cluster" => Value::from(n.cluster.clone()),
            "Group" => Value::from(n.group.clone()),
            "ID" | "Id" => Value::from(n.id.clone()),
            "Start" => Value::from(n.start_ms),
            "Extras" => Value::from_serialize(&*n.extras),
            "Result" => Value::from_object(ResultObj(n.result.clone(), n.timing.clone())),
            other => return timing_value(n.timing.as_ref().and_then(|t| t.group), other),
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["Cluster", "Group", "ID", "Id", "Start", "Extras", "Result"])
    }
}

/// The template context of a notification.
fn context(n: &Notification) -> Value {
    Value::from_object(ContextObj(n.clone()))
}

/// JSON of a template value, with the HTTP API's field names for Burrow's objects.
fn to_json(v: &Value) -> Result<serde_json::Value, Error> {
    let json_err = |e: serde_json::Error| Error::new(ErrorKind::InvalidOperation, e.to_string());
    // Through text, so that f32 fields keep their short form (0.6, not 0.6000000238418579).
    fn via_text<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&serde_json::to_string(v)?)
    }
    if let Some(p) = v.downcast_object_ref::<PartitionObj>() {
        return via_text(&p.0).map_err(json_err);
    }
    if let Some(r) = v.downcast_object_ref::<ResultObj>() {
        return via_text(&*r.0).map_err(json_err);
    }
    if let Some(o) = v.downcast_object_ref::<OffsetObj>() {
        return via_text(&o.0).map_err(json_err);
    }
    if v.kind() == minijinja::value::ValueKind::Seq {
        return v
            .try_iter()?
            .map(|item| to_json(&item))
            .collect::<Result<Vec<_>, _>>()
            .map(serde_json::Value::Array);
    }
    if v.kind() == minijinja::value::ValueKind::Map && v.as_object().is_some() {
        let mut map = serde_json::Map::new();
        for key in v.try_iter()? {
            let item = v.get_item(&key)?;
            map.insert(key.to_string(), to_json(&item)?);
        }
        return Ok(serde_json::Value::Object(map));
    }
    serde_json::to_value(v).map_err(json_err)
}

fn partitions_of(v: &Value) -> Result<Vec<Value>, Error> {
    if v.is_undefined() || v.is_none() {
        return Ok(Vec::new());
    }
    Ok(v.try_iter()?.collect())
}

fn partition_status(p: &Value) -> Result<String, Error> {
    Ok(p.get_attr("Status")?
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Burrow's `topicsbystatus`: status name → distinct topics in that status, in order.
fn topicsbystatus(partitions: Value) -> Result<Value, Error> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in partitions_of(&partitions)? {
        let topic = p.get_attr("Topic")?.to_string();
        let list = out.entry(partition_status(&p)?).or_default();
        if !list.contains(&topic) {
            list.push(topic);
        }
    }
    Ok(Value::from_serialize(&out))
}

/// Burrow's `partitioncounts`: counts of warn, stop, stall, rewind and unknown partitions (OK
/// not counted).
fn partitioncounts(partitions: Value) -> Result<Value, Error> {
    let mut out: BTreeMap<&str, u64> = ["warn", "stop", "stall", "rewind", "unknown"]
        .into_iter()
        .map(|k| (k, 0))
        .collect();
    for p in partitions_of(&partitions)? {
        let key = match partition_status(&p)?.as_str() {
            "OK" => continue,
            "WARN" => "warn",
            "STOP" => "stop",
            "STALL" => "stall",
            "REWIND" => "rewind",
            _ => "unknown",
        };
        *out.entry(key).or_default() += 1;
    }
    Ok(Value::from_serialize(&out))
}

/// Burrow's `maxlag`: a partition's current lag, 0 for none.
fn maxlag(partition: Value) -> Result<Value, Error> {
    if partition.is_none() || partition.is_undefined() {
        return Ok(Value::from(0));
    }
    partition.get_attr("CurrentLag")
}

fn int(v: &Value, what: &str) -> Result<i64, Error> {
    i64::try_from(v.clone()).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("{what}: {v} is not an integer"),
        )
    })
}

fn add(a: Value, b: Value) -> Result<i64, Error> {
    Ok(int(&a, "add")?.wrapping_add(int(&b, "add")?))
}

fn minus(a: Value, b: Value) -> Result<i64, Error> {
    Ok(int(&a, "minus")?.wrapping_sub(int(&b, "minus")?))
}

fn multiply(a: Value, b: Value) -> Result<i64, Error> {
    Ok(int(&a, "multiply")?.wrapping_mul(int(&b, "multiply")?))
}

fn divide(a: Value, b: Value) -> Result<i64, Error> {
    let b = int(&b, "divide")?;
    if b == 0 {
        return Err(Error::new(ErrorKind::InvalidOperation, "divide by zero"));
    }
    Ok(int(&a, "divide")?.wrapping_div(b))
}

fn jsonencoder(v: Value) -> Result<String, Error> {
    let json = to_json(&v)?;
    serde_json::to_string(&json).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

/// Formats milliseconds since the epoch with a strftime `format` in the local time zone (the
/// `TZ` variable or the system's zone). Burrow's `formattimestamp` took a Go layout. The format
/// `rfc3339` is Go's `time.RFC3339`: `2023-11-14T22:15:00Z` in UTC, `…+01:00` elsewhere.
pub fn format_timestamp(ms: i64, format: &str) -> Result<String, String> {
    let ts = jiff::Timestamp::from_millisecond(ms).map_err(|e| e.to_string())?;
    let zoned = ts.to_zoned(jiff::tz::TimeZone::system());
    let format = match format {
        "rfc3339" if zoned.offset().seconds() == 0 => "%Y-%m-%dT%H:%M:%SZ",
        "rfc3339" => "%Y-%m-%dT%H:%M:%S%:z",
        other => other,
    };
    jiff::fmt::strtime::format(format, &zoned).map_err(|e| e.to_string())
}

fn formattimestamp(ms: Value, format: String) -> Result<String, Error> {
    let ms = int(&ms, "formattimestamp")?;
    format_timestamp(ms, &format).map_err(|e| Error::new(ErrorKind::InvalidOperation, e))
}

fn with_helpers(env: &mut Environment<'static>) {
    macro_rules! both {
        ($name:literal, $f:expr) => {
            env.add_function($name, $f);
            env.add_filter($name, $f);
        };
    }
    both!("jsonencoder", jsonencoder);
    both!("topicsbystatus", topicsbystatus);
    both!("partitioncounts", partitioncounts);
    both!("add", add);
    both!("minus", minus);
    both!("multiply", multiply);
    both!("divide", divide);
    both!("maxlag", maxlag);
    both!("formattimestamp", formattimestamp);
}

/// A sample notification, rendered at load time so that errors show before the first alert.
fn sample(extras: Arc<BTreeMap<String, String>>) -> Notification {
    let offset = |offset, ts| ConsumerOffset {
        offset,
        order: 0,
        timestamp: ts,
        observed_at: ts,
        lag: Some(10),
    };
    let p = PartitionStatus {
        topic: "topic".into(),
        partition: 0,
        owner: "/127.0.0.1".into(),
        client_id: "client".into(),
        status: Status::Warn,
        start: Some(offset(100, 1_700_000_000_000)),
        end: Some(offset(110, 1_700_000_060_000)),
        current_lag: 20,
        complete: 1.0,
    };
    let timing = Timing {
        seconds: Some(125.5),
        estimate: None,
        drain: burrow_eval::timing::Drain::Draining { seconds: 60.0 },
    };
    Notification {
        timing: Some(Arc::new(GroupTiming {
            group: Some(timing),
            partitions: [(("topic".to_string(), 0), timing)].into(),
        })),
        kind: NotificationKind::Open,
        cluster: "cluster".into(),
        group: "group".into(),
        id: "00000000-0000-4000-8000-000000000000".into(),
        start_ms: 1_700_000_000_000,
        extras,
        result: Arc::new(ConsumerGroupStatus {
            cluster: "cluster".into(),
            group: "group".into(),
            status: Status::Warn,
            complete: 1.0,
            partitions: vec![p.clone()],
            partition_count: 1,
            maxlag: Some(p),
            totallag: 20,
        }),
    }
}

fn template_error(file: &str, e: &Error) -> NotifyError {
    let mut message = e.kind().to_string();
    if let Some(detail) = e.detail() {
        message = format!("{message}: {detail}");
    }
    NotifyError::Template {
        file: file.to_string(),
        line: e.line().unwrap_or(0),
        message,
    }
}

/// The templates of one notifier: body templates (open, and close when `send-close`) with
/// Burrow's helpers, and optional URL templates (open, close) without them.
pub struct Templates {
    env: Environment<'static>,
    urls: Environment<'static>,
    /// The templates read as Go templates, by slot (`open`, `close`, `url-open`, `url-close`);
    /// the others are in `env` / `urls`.
    go: BTreeMap<&'static str, GoTemplate>,
    has_close: bool,
    has_close_url: bool,
    has_urls: bool,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("has_close", &self.has_close)
            .finish_non_exhaustive()
    }
}

impl Templates {
    /// Reads and checks the body templates from files. Each is parsed and rendered once with
    /// sample data (and the notifier's `extras`); an error names the file and line.
    pub fn from_files(
        open: &Path,
        close: Option<&Path>,
        extras: &BTreeMap<String, String>,
    ) -> Result<Self, NotifyError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| NotifyError::Template {
                file: p.display().to_string(),
                line: 0,
                message: e.to_string(),
            })
        };
        let open_src = (open.display().to_string(), read(open)?);
        let close_src = match close {
            Some(c) => Some((c.display().to_string(), read(c)?)),
            None => None,
        };
        Self::from_sources(open_src, close_src, extras)
    }

    /// [`Templates::from_files`] from (name, source) pairs; the name is used in errors.
    pub fn from_sources(
        open: (String, String),
        close: Option<(String, String)>,
        extras: &BTreeMap<String, String>,
    ) -> Result<Self, NotifyError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        with_helpers(&mut env);
        let mut urls = Environment::new();
        urls.set_undefined_behavior(UndefinedBehavior::Strict);
        let has_close = close.is_some();
        let extras = Arc::new(extras.clone());
        let sample = sample(extras);
        let mut go = BTreeMap::new();
        for (slot, t) in [("open", Some(open)), ("close", close)] {
            let Some((file, source)) = t else { continue };
            match read_as_go(&file, &source, true, &sample)? {
                Ok((t, _)) => {
                    go.insert(slot, t);
                }
                Err(go_error) => {
                    env.add_template_owned(slot, source.clone())
                        .map_err(|e| neither_error(&file, &source, &go_error, &e))?;
                    env.get_template(slot)
                        .and_then(|t| t.render(context(&sample)))
                        .map_err(|e| template_error(&file, &e))?;
                    debug!(file, "template read as a Jinja (minijinja) template");
                }
            }
        }
        Ok(Templates {
            env,
            urls,
            go,
            has_close,
            has_close_url: false,
            has_urls: false,
        })
    }

    /// Adds URL templates (Burrow's `url-open` and `url-close`): same data, no helpers. `key`
    /// prefixes the key names in errors.
    pub fn with_urls(
        mut self,
        key: &str,
        open: &str,
        close: Option<&str>,
        extras: &BTreeMap<String, String>,
    ) -> Result<Self, NotifyError> {
        let sample = sample(Arc::new(extras.clone()));
        for (slot, name, src) in [
            ("url-open", "url-open", Some(open)),
            ("url-close", "url-close", close),
        ] {
            let Some(src) = src else { continue };
            let file = format!("{key}.{name}");
            let url = match read_as_go(&file, src, false, &sample)? {
                Ok((t, url)) => {
                    self.go.insert(slot, t);
                    url
                }
                Err(go_error) => {
                    self.urls
                        .add_template_owned(slot, src.to_string())
                        .map_err(|e| neither_error(&file, src, &go_error, &e))?;
                    self.urls
                        .get_template(slot)
                        .and_then(|t| t.render(context(&sample)))
                        .map_err(|e| template_error(&file, &e))?
                }
            };
            check_url(&file, &url)?;
        }
        self.has_urls = true;
        self.has_close_url = close.is_some();
        Ok(self)
    }

    /// Renders the body for the notification's kind.
    pub fn render(&self, n: &Notification) -> Result<String, NotifyError> {
        let slot = match n.kind {
            NotificationKind::Close if self.has_close => "close",
            NotificationKind::Close => {
                return Err(NotifyError::Render {
                    template: "close".into(),
                    message: "no template-close configured".into(),
                })
            }
            NotificationKind::Open => "open",
        };
        if let Some(t) = self.go.get(slot) {
            return t.render(n).map_err(|e| NotifyError::Render {
                template: slot.into(),
                message: e.to_string(),
            });
        }
        self.env
            .get_template(slot)
            .and_then(|t| t.render(context(n)))
            .map_err(|e| NotifyError::Render {
                template: slot.into(),
                message: e.to_string(),
            })
    }

    /// Renders the URL for the notification's kind.
    pub fn render_url(&self, n: &Notification) -> Result<String, NotifyError> {
        let slot = match n.kind {
            NotificationKind::Close if self.has_close_url => "url-close",
            NotificationKind::Open if self.has_urls => "url-open",
            _ => {
                return Err(NotifyError::Render {
                    template: "url".into(),
                    message: format!("no URL template for {} notifications", n.kind.as_str()),
                })
            }
        };
        if let Some(t) = self.go.get(slot) {
            return t
                .render(n)
                .map(|s| s.trim().to_string())
                .map_err(|e| NotifyError::Render {
                    template: slot.into(),
                    message: e.to_string(),
                });
        }
        self.urls
            .get_template(slot)
            .and_then(|t| t.render(context(n)))
            .map(|s| s.trim().to_string())
            .map_err(|e| NotifyError::Render {
                template: slot.into(),
                message: e.to_string(),
            })
    }
}

/// Reads a template as a Go template (Burrow's syntax) if it parses as one: the template and
/// what it renders for the sample notification (a render failure is the template's error).
/// `Ok(Err(_))`: it is not a Go template (then it is read as a Jinja template).
#[allow(clippy::type_complexity)]
fn read_as_go(
    file: &str,
    source: &str,
    with_helpers: bool,
    sample: &Notification,
) -> Result<Result<(GoTemplate, String), gotmpl::TemplateError>, NotifyError> {
    let template = match GoTemplate::parse(source, with_helpers) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let rendered = template.render(sample).map_err(|e| NotifyError::Template {
        file: file.to_string(),
        line: crate::gotemplate::error_line(&e),
        message: format!("Go template: {e}"),
    })?;
    debug!(file, "template read as a Go text/template");
    Ok(Ok((template, rendered)))
}

/// A template that is neither a Go nor a Jinja template: both reasons, the line of the one
/// its text looks like (Go's actions start with a dot, a variable or a keyword).
fn neither_error(
    file: &str,
    source: &str,
    go: &gotmpl::TemplateError,
    jinja: &Error,
) -> NotifyError {
    let looks_like_go = [
        "{{.", "{{ .", "{{-", "{{$", "{{ $", "{{end", "{{ end", "{{if", "{{range",
    ]
    .iter()
    .any(|m| source.contains(m));
    let go_line = crate::gotemplate::error_line(go);
    let jinja_line = jinja.line().unwrap_or(0);
    let mut jinja_message = jinja.kind().to_string();
    if let Some(detail) = jinja.detail() {
        jinja_message = format!("{jinja_message}: {detail}");
    }
    NotifyError::Template {
        file: file.to_string(),
        line: if looks_like_go { go_line } else { jinja_line },
        message: format!(
            "neither a Go template ({go}) nor a Jinja template (line {jinja_line}: {jinja_message})"
        ),
    }
}

/// A URL (rendered from a `url-open` / `url-close` template with sample data) that a request can
/// be sent to: absolute, http or https, with a host.
fn check_url(key: &str, url: &str) -> Result<(), NotifyError> {
    let bad = |why: String| NotifyError::Config {
        key: key.to_string(),
        message: format!("{url:?} {why}"),
    };
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| bad(format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad(format!(
            "has scheme {:?} (expected http or https)",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification() -> Notification {
        let mut extras = BTreeMap::new();
        extras.insert("api_key".to_string(), "KEY".to_string());
        sample(Arc::new(extras))
    }

    #[test]
    fn templates_get_the_lag_in_time_of_the_group_and_each_partition() {
        // Go
        assert_eq!(
            render("{{.LagSeconds}} {{.LagSecondsEstimated}} {{.Drain}} {{.DrainSeconds}}|{{range .Result.Partitions}}{{.Topic}}:{{.LagSeconds}}:{{.Drain}}{{end}}|{{.Result.Maxlag.DrainSeconds}}"),
            "125.5 false draining 60|topic:125.5:draining|60"
        );
        // Jinja
        assert_eq!(
            render("{{ LagSeconds }} {{ Drain }}|{% for p in Result.Partitions %}{{ p.LagSeconds }}{% endfor %}"),
            "125.5 draining|125.5"
        );
        // Without timing: nothing known.
        let mut n = notification();
        n.timing = None;
        let t = Templates::from_sources(
            (
                "t".into(),
                "{{if .LagSeconds}}x{{else}}none{{end}} {{.Drain}}".into(),
            ),
            None,
            &n.extras,
        )
        .unwrap();
        assert_eq!(t.render(&n).unwrap(), "none unknown");
        // JSON of a partition stays Burrow's.
        assert!(!render("{{jsonencoder .Result.Maxlag}}").contains("LagSeconds"));
    }

    fn render(src: &str) -> String {
        let t = Templates::from_sources(("t".into(), src.into()), None, &notification().extras);
        match t {
            Ok(t) => t.render(&notification()).unwrap_or_else(|e| e.to_string()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn burrow_names_and_helpers() {
        assert_eq!(
            render("{{ Cluster }}/{{ Group }} {{ ID }} {{ Id }} {{ Result.Status }} {{ Result.TotalLag }}"),
            "cluster/group 00000000-0000-4000-8000-000000000000 00000000-0000-4000-8000-000000000000 WARN 20"
        );
        assert_eq!(
            render("{{ Extras.api_key }}|{{ Extras.missing | default('') }}|"),
            "KEY||"
        );
        assert_eq!(
            render("{{ Result.Partitions | jsonencoder }}"),
            r#"[{"topic":"topic","partition":0,"owner":"/127.0.0.1","client_id":"client","status":"WARN","start":{"offset":100,"timestamp":1700000000000,"observedAt":1700000000000,"lag":10},"end":{"offset":110,"timestamp":1700000060000,"observedAt":1700000060000,"lag":10},"current_lag":20,"complete":1}]"#
        );
        assert_eq!(
            render("{{ topicsbystatus(Result.Partitions) | jsonencoder }}"),
            r#"{"WARN":["topic"]}"#
        );
        assert_eq!(
            render("{{ partitioncounts(Result.Partitions) | jsonencoder }}"),
            r#"{"rewind":0,"stall":0,"stop":0,"unknown":0,"warn":1}"#
        );
        assert_eq!(
            render("{{ add(2, 3) }} {{ minus(2, 3) }} {{ multiply(4, 5) }} {{ divide(7, 2) }}"),
            "5 -1 20 3"
        );
        assert_eq!(render("{{ maxlag(Result.Maxlag) }}"), "20");
        assert_eq!(render("{% for p in Result.Partitions %}{{ p.Topic }}:{{ p.Partition }} {{ p.End.Lag }}{% endfor %}"), "topic:0 10");
        assert_eq!(render("{{ Result.Complete }}"), "1");
    }

    #[test]
    fn formattimestamp_in_the_local_zone() {
        // The test process's zone is what `TZ` says; UTC when unset on CI machines.
        let utc = jiff::Timestamp::from_millisecond(1_700_000_000_000).map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%Y")
                .to_string()
        });
        assert_eq!(
            render("{{ formattimestamp(Start, '%Y') }}"),
            utc.unwrap_or_default()
        );
        assert!(render("{{ Start | formattimestamp('%b %d, %Y') }}").contains("2023"));
    }

    #[test]
    fn a_go_template_that_fails_with_the_sample_names_its_line() {
        let e = Templates::from_sources(
            (
                "open.tmpl".into(),
                "a\n{{.Group}}\n{{.Result.Nope}}\n".into(),
            ),
            None,
            &BTreeMap::new(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.starts_with("template open.tmpl line 3: Go template") && e.contains("Nope"),
            "{e}"
        );
    }

    #[test]
    fn burrows_own_templates_are_read_as_go_and_ours_as_jinja() {
        let extras = notification().extras.clone();
        let go = Templates::from_sources(
            (
                "o".into(),
                "{{.Group}} {{if eq .Result.Status 2}}warn{{end}}".into(),
            ),
            None,
            &extras,
        )
        .unwrap();
        assert_eq!(go.render(&notification()).unwrap(), "group warn");
        let jinja = Templates::from_sources(
            (
                "o".into(),
                "{{ Group }} {% if Result.Status == \"WARN\" %}warn{% endif %}".into(),
            ),
            None,
            &extras,
        )
        .unwrap();
        assert_eq!(jinja.render(&notification()).unwrap(), "group warn");
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = Templates::from_sources(
            ("open.tmpl".into(), "ok\n{{ Group }\n".into()),
            None,
            &BTreeMap::new(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.starts_with("template open.tmpl line 2: neither a Go template")
                && e.contains("nor a Jinja template (line 2: syntax error"),
            "{e}"
        );
        // Unknown variables fail at load time (strict), not at the first alert.
        let e = Templates::from_sources(
            ("o".into(), "x".into()),
            Some(("close.tmpl".into(), "\n\n{{ Result.Nope }}".into())),
            &BTreeMap::new(),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.starts_with("template close.tmpl line 3:"), "{e}");
        // Burrow's broken delete template used .Id; here both spellings work.
        assert_eq!(render("{{ Id }}"), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn url_templates_have_no_helpers() {
        let t = Templates::from_sources(("o".into(), "x".into()), None, &BTreeMap::new()).and_then(
            |t| {
                t.with_urls(
                    "notifier.n",
                    "http://h/{{ Group }}/{{ ID }}",
                    None,
                    &BTreeMap::new(),
                )
            },
        );
        let Ok(t) = t else { panic!("valid") };
        assert_eq!(
            t.render_url(&notification()).ok().as_deref(),
            Some("http://h/group/00000000-0000-4000-8000-000000000000")
        );
        let e = Templates::from_sources(("o".into(), "x".into()), None, &BTreeMap::new())
            .and_then(|t| {
                t.with_urls(
                    "notifier.n",
                    "http://h/{{ jsonencoder(Group) }}",
                    None,
                    &BTreeMap::new(),
                )
            })
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("template notifier.n.url-open line 1:"), "{e}");
    }
}
