//! `encoding/json`'s `json.Marshal` of template values, for Burrow's `jsonencoder`: Burrow's
//! types with their JSON tags (statuses as names, lags as numbers), struct fields in
//! declaration order, map keys sorted, strings escaped as Go escapes them (`<`, `>`, `&`,
//! U+2028 and U+2029 as `\u` escapes; `\b` and `\f` as Go 1.22+ writes them).

use std::fmt::Write;

use gotmpl::{Object, Value};

use super::data::{
    GroupStatus, Lag, NilPointer, Offset, Partition, PartitionList, Root, StatusValue, StringMap,
};
use super::helpers::TypedMap;
use super::time::GoTime;

/// `json.Marshal(v)` as a string.
pub fn marshal(v: &Value) -> String {
    let mut out = String::new();
    value(&mut out, v);
    out
}

fn value(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Uint(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(f) => float(out, *f),
        Value::String(s) => string(out, s),
        Value::List(items) => list(out, items.iter()),
        Value::Map(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, k);
                out.push(':');
                value(out, v);
            }
            out.push('}');
        }
        // Go cannot encode a func: json.Marshal fails and Burrow's helper writes "".
        Value::Function(_) => {}
        Value::Object(o) => object(out, o.as_ref()),
    }
}

fn list<'a>(out: &mut String, items: impl Iterator<Item = &'a Value>) {
    out.push('[');
    for (i, v) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        value(out, v);
    }
    out.push(']');
}

/// A struct: `(json name, value)` in declaration order.
fn fields(out: &mut String, fields: &[(&str, Value)]) {
    out.push('{');
    for (i, (name, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, name);
        out.push(':');
        value(out, v);
    }
    out.push('}');
}

fn field(o: &dyn Object, name: &str) -> Value {
    o.field(name).and_then(Result::ok).unwrap_or(Value::Nil)
}

fn object(out: &mut String, o: &dyn Object) {
    let any = o.as_any();
    let struct_fields = |out: &mut String, names: &[(&str, &str)]| {
        let values: Vec<(&str, Value)> = names
            .iter()
            .map(|(json, go)| (*json, field(o, go)))
            .collect();
        fields(out, &values);
    };
    if any.is::<Root>() {
        struct_fields(
            out,
            &[
                ("Cluster", "Cluster"),
                ("Group", "Group"),
                ("ID", "ID"),
                ("Start", "Start"),
                ("Extras", "Extras"),
                ("Result", "Result"),
            ],
        );
    } else if any.is::<GroupStatus>() {
        struct_fields(
            out,
            &[
                ("cluster", "Cluster"),
                ("group", "Group"),
                ("status", "Status"),
                ("complete", "Complete"),
                ("partitions", "Partitions"),
                ("partition_count", "TotalPartitions"),
                ("maxlag", "Maxlag"),
                ("totallag", "TotalLag"),
            ],
        );
    } else if any.is::<Partition>() {
        struct_fields(
            out,
            &[
                ("topic", "Topic"),
                ("partition", "Partition"),
                ("owner", "Owner"),
                ("client_id", "ClientID"),
                ("status", "Status"),
                ("start", "Start"),
                ("end", "End"),
                ("current_lag", "CurrentLag"),
                ("complete", "Complete"),
            ],
        );
    } else if any.is::<Offset>() {
        struct_fields(
            out,
            &[
                ("offset", "Offset"),
                ("timestamp", "Timestamp"),
                ("observedAt", "ObservedTimestamp"),
                ("lag", "Lag"),
            ],
        );
    } else if any.is::<Lag>() {
        // Lag's MarshalJSON: the number alone.
        value(out, &field(o, "Value"));
    } else if any.is::<StatusValue>() || any.is::<GoTime>() {
        // StatusConstant's MarshalJSON, time.Time's RFC 3339 with nanoseconds.
        let text = match any.downcast_ref::<GoTime>() {
            Some(t) => t.rfc3339_nano(),
            None => o.display(),
        };
        string(out, &text);
    } else if any.is::<NilPointer>() {
        out.push_str("null");
    } else if any.is::<StringMap>() || any.is::<TypedMap>() || any.is::<PartitionList>() {
        value(out, &o.basic().unwrap_or(Value::Nil));
    } else {
        // A named basic type (time.Month, time.Weekday): its number.
        value(out, &o.basic().unwrap_or(Value::Nil));
    }
}

/// Go's float encoding: the shortest representation, in exponent form below 1e-6 and from
/// 1e21 (`strconv` writes `e-07` and `e+21`; the encoder cleans `e-07` to `e-7`).
fn float(out: &mut String, f: f64) {
    if !f.is_finite() {
        // json.Marshal fails on these; Burrow's helper then writes "".
        return;
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust writes 1e-7 / 1.5e21; Go writes 1e-07 / 1.5e+21, then cleans e-07 to e-7.
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{}", exp.abs());
    } else {
        let _ = write!(out, "{f}");
    }
}

/// A JSON string as Go's encoder writes it (HTML-safe).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go 1.22+ (Burrow 1.9.5 is built with Go 1.25); older Go wrote \u0008, \u000c.
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_go_escapes_them() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\n<&>\u{1}\u{8}\u{2028}é");
        assert_eq!(out, r#""a\"b\\c\n\u003c\u0026\u003e\u0001\b\u2028é""#);
    }

    #[test]
    fn floats_as_go_encodes_them() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (1e-7, "1e-7"),
            (1.5e21, "1.5e+21"),
            (0.000001, "0.000001"),
        ];
        for (f, want) in cases {
            let mut out = String::new();
            float(&mut out, f);
            assert_eq!(out, want, "{f}");
        }
    }
}
