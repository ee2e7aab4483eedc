//! Burrow's template helper functions (`helperFunctionMap` in Burrow's notifier): `jsonencoder`,
//! `topicsbystatus`, `partitioncounts`, `add`, `minus`, `multiply`, `divide`, `maxlag` and
//! `formattimestamp`, on Go template values.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{Object, TemplateError, Value, ValueFunc};

use super::data::{object, Partition};
use super::json;
use super::time::GoTime;

/// The helpers by name.
pub fn functions() -> Vec<(&'static str, ValueFunc)> {
    vec![
        ("jsonencoder", Arc::new(jsonencoder) as ValueFunc),
        ("topicsbystatus", Arc::new(topicsbystatus)),
        ("partitioncounts", Arc::new(partitioncounts)),
        (
            "add",
            Arc::new(|a: &[Value]| arithmetic("add", a, i64::wrapping_add)),
        ),
        (
            "minus",
            Arc::new(|a: &[Value]| arithmetic("minus", a, i64::wrapping_sub)),
        ),
        (
            "multiply",
            Arc::new(|a: &[Value]| arithmetic("multiply", a, i64::wrapping_mul)),
        ),
        (
            "divide",
            Arc::new(|a: &[Value]| arithmetic("divide", a, i64::wrapping_div)),
        ),
        ("maxlag", Arc::new(maxlag)),
        ("formattimestamp", Arc::new(formattimestamp)),
    ]
}

fn error(message: String) -> TemplateError {
    TemplateError::Exec(message)
}

fn args<'a, const N: usize>(name: &str, args: &'a [Value]) -> gotmpl::Result<&'a [Value; N]> {
    args.try_into().map_err(|_| {
        error(format!(
            "wrong number of args for {name}: want {N} got {}",
            args.len()
        ))
    })
}

/// `jsonencoder`: `json.Marshal` of its argument (Burrow ignores the error and writes "").
fn jsonencoder(a: &[Value]) -> gotmpl::Result<Value> {
    let [v] = args::<1>("jsonencoder", a)?;
    Ok(Value::String(json::marshal(v).into()))
}

/// The partitions of a `[]*protocol.PartitionStatus` argument.
fn partitions(name: &str, v: &Value) -> gotmpl::Result<Vec<Arc<burrow_core::PartitionStatus>>> {
    let list = match v {
        Value::Object(o) => o.basic(),
        Value::List(_) => Some(v.clone()),
        Value::Nil => Some(Value::List(Arc::from(Vec::new()))),
        _ => None,
    };
    let Some(Value::List(items)) = list else {
        return Err(error(format!(
            "wrong type for value; expected []*protocol.PartitionStatus; got {}",
            v.type_name()
        )));
    };
    items
        .iter()
        .map(|item| match item {
            Value::Object(o) => o
                .as_any()
                .downcast_ref::<Partition>()
                .map(|p| p.0.clone())
                .ok_or_else(|| error(format!("{name}: {} is not a partition", o.type_name()))),
            other => Err(error(format!(
                "{name}: {} is not a partition",
                other.type_name()
            ))),
        })
        .collect()
}

/// A typed map a helper returns: `index` gives its element type's zero value for a missing key.
#[derive(Debug)]
pub(crate) struct TypedMap {
    type_name: &'static str,
    entries: BTreeMap<Arc<str>, Value>,
    zero: Value,
}

impl Object for TypedMap {
    fn type_name(&self) -> &'static str {
        self.type_name
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        Some(Ok(self.entries.get(name).cloned().unwrap_or(Value::Nil)))
    }
    fn display(&self) -> String {
        self.basic().map(|b| b.to_string()).unwrap_or_default()
    }
    fn basic(&self) -> Option<Value> {
        Some(Value::Map(Arc::new(self.entries.clone())))
    }
    fn zero_element(&self) -> Option<Value> {
        Some(self.zero.clone())
    }
}

/// `topicsbystatus`: status name → the distinct topics in that status. Go builds each list by
/// ranging over a map, in no fixed order; here they are sorted.
fn topicsbystatus(a: &[Value]) -> gotmpl::Result<Value> {
    let [ps] = args::<1>("topicsbystatus", a)?;
    let mut by_status: BTreeMap<Arc<str>, Vec<String>> = BTreeMap::new();
    for p in partitions("topicsbystatus", ps)? {
        let topics = by_status.entry(Arc::from(p.status.as_str())).or_default();
        if !topics.contains(&p.topic) {
            topics.push(p.topic.clone());
        }
    }
    let entries = by_status
        .into_iter()
        .map(|(status, mut topics)| {
            topics.sort();
            let list: Vec<Value> = topics
                .iter()
                .map(|t| Value::String(t.as_str().into()))
                .collect();
            (status, Value::List(list.into()))
        })
        .collect();
    Ok(object(TypedMap {
        type_name: "map[string][]string",
        entries,
        zero: Value::Nil,
    }))
}

/// `partitioncounts`: how many partitions are warn, stop, stall, rewind and unknown (OK ones
/// are not counted).
fn partitioncounts(a: &[Value]) -> gotmpl::Result<Value> {
    use burrow_core::Status;
    let [ps] = args::<1>("partitioncounts", a)?;
    let mut counts: BTreeMap<Arc<str>, i64> = ["warn", "stop", "stall", "rewind", "unknown"]
        .into_iter()
        .map(|k| (Arc::from(k), 0))
        .collect();
    for p in partitions("partitioncounts", ps)? {
        let key = match p.status {
            Status::Ok => continue,
            Status::Warn => "warn",
            Status::Stop => "stop",
            Status::Stall => "stall",
            Status::Rewind => "rewind",
            _ => "unknown",
        };
        if let Some(n) = counts.get_mut(key) {
            *n += 1;
        }
    }
    Ok(object(TypedMap {
        type_name: "map[string]int",
        entries: counts
            .into_iter()
            .map(|(k, n)| (k, Value::Int(n)))
            .collect(),
        zero: Value::Int(0),
    }))
}

/// An integer argument (Go's helpers take `int`; any integer value is accepted here).
fn int(name: &str, v: &Value) -> gotmpl::Result<i64> {
    match v.resolved() {
        Value::Int(n) => Ok(n),
        Value::Uint(n) => i64::try_from(n).map_err(|_| error(format!("{name}: {n} overflows int"))),
        other => Err(error(format!(
            "wrong type for value; expected int; got {}",
            other.type_name()
        ))),
    }
}

/// `add`, `minus`, `multiply`, `divide` on two integers, wrapping as Go's ints do; dividing by
/// zero fails as Go's runtime error does.
fn arithmetic(name: &str, a: &[Value], op: fn(i64, i64) -> i64) -> gotmpl::Result<Value> {
    let [x, y] = args::<2>(name, a)?;
    let (x, y) = (int(name, x)?, int(name, y)?);
    if name == "divide" && y == 0 {
        return Err(error(format!(
            "error calling {name}: runtime error: integer divide by zero"
        )));
    }
    Ok(Value::Int(op(x, y)))
}

/// `maxlag`: a partition's current lag, 0 for a nil partition.
fn maxlag(a: &[Value]) -> gotmpl::Result<Value> {
    let [p] = args::<1>("maxlag", a)?;
    match p {
        Value::Object(o) => match o.as_any().downcast_ref::<Partition>() {
            Some(p) => Ok(Value::Uint(p.0.current_lag)),
            None if !o.is_true() => Ok(Value::Uint(0)),
            None => Err(error(format!(
                "wrong type for value; expected *protocol.PartitionStatus; got {}",
                o.type_name()
            ))),
        },
        Value::Nil => Ok(Value::Uint(0)),
        other => Err(error(format!(
            "wrong type for value; expected *protocol.PartitionStatus; got {}",
            other.type_name()
        ))),
    }
}

/// `formattimestamp`: milliseconds since the epoch in the local zone, in a Go layout.
fn formattimestamp(a: &[Value]) -> gotmpl::Result<Value> {
    let [ms, layout] = args::<2>("formattimestamp", a)?;
    let ms = int("formattimestamp", ms)?;
    let Value::String(layout) = layout else {
        return Err(error(format!(
            "wrong type for value; expected string; got {}",
            layout.type_name()
        )));
    };
    let t = GoTime::local_from_millis(ms)
        .ok_or_else(|| error(format!("formattimestamp: {ms} is out of range")))?;
    Ok(Value::String(t.format(layout).into()))
}
