//! Burrow's template data as Go sees it: the anonymous struct `executeTemplate` passes
//! (`Cluster`, `Group`, `ID`, `Start`, `Extras`, `Result`), `protocol.ConsumerGroupStatus`,
//! `*protocol.PartitionStatus`, `*protocol.ConsumerOffset`, `*protocol.Lag` and
//! `protocol.StatusConstant` of Burrow 1.9.5, with Go's fields, methods and printing.
//!
//! Additions: the top level has `Id` beside `ID` (Burrow's own `default-http-delete.tmpl`
//! says `{{.Id}}`, which Go refuses at every notification); the top level and each partition
//! have the lag in time and drain fields of burrow-rs (`LagSeconds`, `LagSecondsEstimated`,
//! `Drain`, `DrainSeconds`). Printed whole, the structs show Burrow's fields only.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use burrow_core::{ConsumerGroupStatus, ConsumerOffset, PartitionStatus, Status};
use burrow_eval::timing::{GroupTiming, Timing};
use gotmpl::{Object, TemplateError, Value};

use super::time::GoTime;
use crate::Notification;

/// The value a notification's templates render with.
pub fn notification_value(n: &Notification) -> Value {
    let start = match n.start_ms {
        0 => GoTime::zero(),
        ms => GoTime::local_from_millis(ms).unwrap_or_else(GoTime::zero),
    };
    object(Root {
        cluster: n.cluster.clone(),
        group: n.group.clone(),
        id: n.id.clone(),
        start,
        extras: n.extras.clone(),
        result: n.result.clone(),
        timing: n.timing.clone(),
    })
}

/// burrow-rs's fields of lag in time, on the top level (the group's) and on each partition:
/// `LagSeconds` (seconds behind, or nil when not known), `LagSecondsEstimated` (true when
/// estimated from the end offsets), `Drain` (`caught_up`, `draining`, `not_draining` or
/// `unknown`) and `DrainSeconds` (seconds to lag 0, or nil).
fn timing_field(t: Option<Timing>, name: &str) -> Option<Value> {
    use crate::template::TimingField;
    Some(match crate::template::timing_field(t, name)? {
        TimingField::Seconds(s) => Value::Float(s),
        TimingField::Nothing => Value::Nil,
        TimingField::Flag(b) => Value::Bool(b),
        TimingField::Word(w) => string(w),
    })
}

pub(crate) fn object(o: impl Object + 'static) -> Value {
    Value::Object(Arc::new(o))
}

fn string(s: &str) -> Value {
    Value::String(s.into())
}

/// A float32 as Go prints it: the shortest decimal that reads back as the same float32.
pub(crate) fn go_f32(v: f32) -> Value {
    Value::Float(crate::template::shortest_f64(v))
}

/// The top-level struct.
#[derive(Debug)]
pub(crate) struct Root {
    pub(crate) cluster: String,
    pub(crate) group: String,
    pub(crate) id: String,
    pub(crate) start: GoTime,
    pub(crate) extras: Arc<BTreeMap<String, String>>,
    pub(crate) result: Arc<ConsumerGroupStatus>,
    pub(crate) timing: Option<Arc<GroupTiming>>,
}

impl Object for Root {
    fn type_name(&self) -> &'static str {
        "struct { Cluster string; Group string; ID string; Start time.Time; Extras map[string]string; Result protocol.ConsumerGroupStatus }"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        Some(Ok(match name {
            "Cluster" => string(&self.cluster),
            "Group" => string(&self.group),
            "ID" | "Id" => string(&self.id),
            "Start" => object(self.start.clone()),
            "Extras" => object(StringMap(self.extras.clone())),
            "Result" => object(GroupStatus(self.result.clone(), self.timing.clone())),
            other => {
                let group = self.timing.as_ref().and_then(|t| t.group);
                return timing_field(group, other).map(Ok);
            }
        }))
    }
    fn display(&self) -> String {
        format!(
            "{{{} {} {} {} {} {}}}",
            self.cluster,
            self.group,
            self.id,
            self.start.go_string(),
            StringMap(self.extras.clone()).display(),
            GroupStatus(self.result.clone(), None).display()
        )
    }
}

/// `map[string]string` (the notifier's `extras`).
#[derive(Debug)]
pub(crate) struct StringMap(pub(crate) Arc<BTreeMap<String, String>>);

impl Object for StringMap {
    fn type_name(&self) -> &'static str {
        "map[string]string"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        // A missing key is Go's invalid value: "<no value>".
        Some(Ok(self.0.get(name).map_or(Value::Nil, |v| string(v))))
    }
    fn display(&self) -> String {
        self.basic().map(|b| b.to_string()).unwrap_or_default()
    }
    fn basic(&self) -> Option<Value> {
        Some(Value::Map(Arc::new(
            self.0
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), string(v)))
                .collect(),
        )))
    }
    fn zero_element(&self) -> Option<Value> {
        Some(string(""))
    }
}

/// `protocol.StatusConstant`: an int that prints as its name.
#[derive(Debug)]
pub(crate) struct StatusValue(pub(crate) Status);

impl Object for StatusValue {
    fn type_name(&self) -> &'static str {
        "protocol.StatusConstant"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        (name == "String").then(|| Ok(string(self.0.as_str())))
    }
    fn display(&self) -> String {
        self.0.as_str().to_string()
    }
    fn basic(&self) -> Option<Value> {
        Some(Value::Int(i64::from(self.0.as_i32())))
    }
    fn is_stringer(&self) -> bool {
        true
    }
}

/// A nil pointer of a named type: prints `<nil>`, is false, and has no fields.
#[derive(Debug)]
pub(crate) struct NilPointer(pub(crate) &'static str);

impl Object for NilPointer {
    fn type_name(&self) -> &'static str {
        self.0
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        Some(Err(TemplateError::Exec(format!(
            "nil pointer evaluating {}.{name}",
            self.0
        ))))
    }
    fn display(&self) -> String {
        "<nil>".into()
    }
    fn is_true(&self) -> bool {
        false
    }
}

/// `protocol.ConsumerGroupStatus`.
#[derive(Debug)]
pub(crate) struct GroupStatus(
    pub(crate) Arc<ConsumerGroupStatus>,
    pub(crate) Option<Arc<GroupTiming>>,
);

impl Object for GroupStatus {
    fn type_name(&self) -> &'static str {
        "protocol.ConsumerGroupStatus"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        let r = &self.0;
        Some(Ok(match name {
            "Cluster" => string(&r.cluster),
            "Group" => string(&r.group),
            "Status" => object(StatusValue(r.status)),
            "Complete" => go_f32(r.complete),
            "Partitions" => partitions(&r.partitions, self.1.as_deref()),
            "TotalPartitions" => Value::Int(r.partition_count as i64),
            "Maxlag" => r.maxlag.as_ref().map_or_else(
                || object(NilPointer("*protocol.PartitionStatus")),
                |p| object(Partition::new(p, self.1.as_deref())),
            ),
            "TotalLag" => Value::Uint(r.totallag),
            _ => return None,
        }))
    }
    fn display(&self) -> String {
        let r = &self.0;
        let maxlag = r
            .maxlag
            .as_ref()
            .map_or("<nil>".to_string(), |p| Partition::new(p, None).display());
        format!(
            "{{{} {} {} {} {} {} {} {}}}",
            r.cluster,
            r.group,
            r.status.as_str(),
            go_f32(r.complete),
            partitions(&r.partitions, None),
            r.partition_count,
            maxlag,
            r.totallag
        )
    }
}

/// `[]*protocol.PartitionStatus`.
#[derive(Debug)]
pub(crate) struct PartitionList(pub(crate) Vec<Value>);

fn partitions(ps: &[PartitionStatus], timing: Option<&GroupTiming>) -> Value {
    object(PartitionList(
        ps.iter()
            .map(|p| object(Partition::new(p, timing)))
            .collect(),
    ))
}

impl Object for PartitionList {
    fn type_name(&self) -> &'static str {
        "[]*protocol.PartitionStatus"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, _name: &str) -> Option<gotmpl::Result<Value>> {
        None
    }
    fn display(&self) -> String {
        Value::List(self.0.clone().into()).to_string()
    }
    fn basic(&self) -> Option<Value> {
        Some(Value::List(self.0.clone().into()))
    }
}

/// `*protocol.PartitionStatus`.
#[derive(Debug)]
pub(crate) struct Partition(pub(crate) Arc<PartitionStatus>, pub(crate) Option<Timing>);

impl Partition {
    fn new(p: &PartitionStatus, timing: Option<&GroupTiming>) -> Self {
        Partition(
            Arc::new(p.clone()),
            timing.and_then(|t| t.partition(&p.topic, p.partition)),
        )
    }
}

fn offset(o: &Option<ConsumerOffset>) -> Value {
    o.map_or_else(
        || object(NilPointer("*protocol.ConsumerOffset")),
        |o| object(Offset(o)),
    )
}

impl Object for Partition {
    fn type_name(&self) -> &'static str {
        "*protocol.PartitionStatus"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        let p = &self.0;
        Some(Ok(match name {
            "Topic" => string(&p.topic),
            "Partition" => Value::Int(i64::from(p.partition)),
            "Owner" => string(&p.owner),
            "ClientID" => string(&p.client_id),
            "Status" => object(StatusValue(p.status)),
            "Start" => offset(&p.start),
            "End" => offset(&p.end),
            "CurrentLag" => Value::Uint(p.current_lag),
            "Complete" => go_f32(p.complete),
            other => return timing_field(self.1, other).map(Ok),
        }))
    }
    /// Go prints the struct with its pointer fields as addresses; the offsets are printed
    /// as structs here instead.
    fn display(&self) -> String {
        let p = &self.0;
        format!(
            "{{{} {} {} {} {} {} {} {} {}}}",
            p.topic,
            p.partition,
            p.owner,
            p.client_id,
            p.status.as_str(),
            offset(&p.start),
            offset(&p.end),
            p.current_lag,
            go_f32(p.complete)
        )
    }
}

/// `*protocol.ConsumerOffset`.
#[derive(Debug)]
pub(crate) struct Offset(pub(crate) ConsumerOffset);

fn lag(l: Option<u64>) -> Value {
    l.map_or_else(|| object(NilPointer("*protocol.Lag")), |v| object(Lag(v)))
}

impl Object for Offset {
    fn type_name(&self) -> &'static str {
        "*protocol.ConsumerOffset"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        let o = &self.0;
        Some(Ok(match name {
            "Offset" => Value::Int(o.offset),
            "Order" => Value::Int(o.order),
            "Timestamp" => Value::Int(o.timestamp),
            "ObservedTimestamp" => Value::Int(o.observed_at),
            "Lag" => lag(o.lag),
            _ => return None,
        }))
    }
    fn display(&self) -> String {
        let o = &self.0;
        format!(
            "{{{} {} {} {} {}}}",
            o.offset,
            o.order,
            o.timestamp,
            o.observed_at,
            lag(o.lag)
        )
    }
}

/// `*protocol.Lag`: prints as `{N}`.
#[derive(Debug)]
pub(crate) struct Lag(pub(crate) u64);

impl Object for Lag {
    fn type_name(&self) -> &'static str {
        "*protocol.Lag"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        (name == "Value").then(|| Ok(Value::Uint(self.0)))
    }
    fn display(&self) -> String {
        format!("{{{}}}", self.0)
    }
}
