//! Burrow's status values and the status objects the evaluator produces.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::offsets::ConsumerOffset;

/// The status of a group or of one of its partitions, with Burrow's integer values.
///
/// The JSON form is the upper-case name (`"OK"`, `"WARN"`, ...); the integer form (`as_i32`) is what
/// Prometheus gauges and notifier templates use. `Error` and `NotFound` only ever describe a group;
/// `Stop`, `Stall` and `Rewind` only ever describe a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum Status {
    /// The group is not known (or has expired). Group only.
    NotFound = 0,
    /// Healthy.
    #[default]
    Ok = 1,
    /// The consumer is falling behind: lag never decreased over the window.
    Warn = 2,
    /// The group has a partition in STOP, STALL or REWIND. Group only.
    Error = 3,
    /// The consumer stopped committing while there is lag.
    Stop = 4,
    /// The consumer commits the same offset over and over while there is lag.
    Stall = 5,
    /// The committed offset went backwards and has not caught up again.
    Rewind = 6,
}

impl Status {
    /// Every status, in integer order.
    pub const ALL: [Status; 7] = [
        Status::NotFound,
        Status::Ok,
        Status::Warn,
        Status::Error,
        Status::Stop,
        Status::Stall,
        Status::Rewind,
    ];

    /// Burrow's integer value (0 NOTFOUND ... 6 REWIND).
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// Burrow's string form, as used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotFound => "NOTFOUND",
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Error => "ERR",
            Status::Stop => "STOP",
            Status::Stall => "STALL",
            Status::Rewind => "REWIND",
        }
    }

    /// The status from its integer value.
    pub fn from_i32(value: i32) -> Option<Status> {
        Status::ALL.get(usize::try_from(value).ok()?).copied()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ParseStatusError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| ParseStatusError(s.to_owned()))
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Serializes an `f32` the way Go's `encoding/json` does: integral values without a fraction
/// (`1`, `0`), others in their shortest form (`0.5`, `0.6`, `0.33333334`).
pub fn serialize_go_f32<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        // Exact: integral f32 values below 2^53 convert to i64 without loss.
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f32(*value)
    }
}

/// The evaluation of one partition of a group: Burrow's `PartitionStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PartitionStatus {
    /// Topic name.
    pub topic: String,
    /// Partition id.
    pub partition: i32,
    /// Owner (client host) from group metadata, or empty.
    pub owner: String,
    /// Client id from group metadata, or empty.
    pub client_id: String,
    /// The partition's status.
    pub status: Status,
    /// Oldest commit of the evaluated window.
    pub start: Option<ConsumerOffset>,
    /// Newest commit of the evaluated window.
    pub end: Option<ConsumerOffset>,
    /// Newest broker offset minus newest commit, at evaluation time.
    pub current_lag: u64,
    /// Fraction of the window that holds commits (0..=1).
    #[serde(serialize_with = "serialize_go_f32")]
    pub complete: f32,
}

/// The evaluation of a whole group: Burrow's `ConsumerGroupStatus`, in its JSON field order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerGroupStatus {
    /// Cluster name.
    pub cluster: String,
    /// Group name.
    pub group: String,
    /// Worst partition status, with STOP/STALL/REWIND reported as ERR.
    pub status: Status,
    /// Fraction of partitions whose own `complete` is 1.
    #[serde(serialize_with = "serialize_go_f32")]
    pub complete: f32,
    /// The partitions (all of them, or only those above OK, depending on the request).
    pub partitions: Vec<PartitionStatus>,
    /// Number of partitions of the group, whatever `partitions` holds.
    pub partition_count: usize,
    /// The partition with the largest current lag.
    pub maxlag: Option<PartitionStatus>,
    /// Sum of the current lag of every partition.
    pub totallag: u64,
}

impl ConsumerGroupStatus {
    /// The reply for a group that is not known: status NOTFOUND, complete 1, no partitions.
    pub fn not_found(cluster: impl Into<String>, group: impl Into<String>) -> Self {
        ConsumerGroupStatus {
            cluster: cluster.into(),
            group: group.into(),
            status: Status::NotFound,
            complete: 1.0,
            partitions: Vec::new(),
            partition_count: 0,
            maxlag: None,
            totallag: 0,
        }
    }

    /// A copy that keeps only the partitions whose status is worse than OK (Burrow's `/status`
    /// view); every other field is unchanged.
    pub fn without_ok_partitions(&self) -> Self {
        ConsumerGroupStatus {
            cluster: self.cluster.clone(),
            group: self.group.clone(),
            status: self.status,
            complete: self.complete,
            partitions: self
                .partitions
                .iter()
                .filter(|p| p.status > Status::Ok)
                .cloned()
                .collect(),
            partition_count: self.partition_count,
            maxlag: self.maxlag.clone(),
            totallag: self.totallag,
        }
    }
}

/// A string that is not one of Burrow's status names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?} (expected NOTFOUND, OK, WARN, ERR, STOP, STALL or REWIND)")]
pub struct ParseStatusError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_strings_and_integers_match_burrow() {
        let expected = [
            ("NOTFOUND", 0),
            ("OK", 1),
            ("WARN", 2),
            ("ERR", 3),
            ("STOP", 4),
            ("STALL", 5),
            ("REWIND", 6),
        ];
        for (status, (name, int)) in Status::ALL.into_iter().zip(expected) {
            assert_eq!(status.as_str(), name);
            assert_eq!(status.as_i32(), int);
            assert_eq!(Status::from_i32(int), Some(status));
            assert_eq!(name.parse::<Status>().unwrap(), status);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{name}\"")
            );
        }
        assert!("ok".parse::<Status>().is_err());
        assert_eq!(Status::from_i32(7), None);
        assert_eq!(Status::from_i32(-1), None);
    }

    #[test]
    fn complete_is_written_like_go_float32() {
        let render = |complete: f32| {
            let p = PartitionStatus {
                complete,
                ..Default::default()
            };
            let v = serde_json::to_string(&p).unwrap();
            v.split("\"complete\":")
                .nth(1)
                .unwrap()
                .trim_end_matches('}')
                .to_owned()
        };
        assert_eq!(render(1.0), "1");
        assert_eq!(render(0.0), "0");
        assert_eq!(render(0.5), "0.5");
        assert_eq!(render(0.6), "0.6");
        assert_eq!(render(0.1), "0.1");
        assert_eq!(render(1.0 / 3.0), "0.33333334");
    }

    #[test]
    fn not_found_shape() {
        let v = serde_json::to_string(&ConsumerGroupStatus::not_found("local", "nogroup")).unwrap();
        assert_eq!(
            v,
            r#"{"cluster":"local","group":"nogroup","status":"NOTFOUND","complete":1,"partitions":[],"partition_count":0,"maxlag":null,"totallag":0}"#
        );
    }
}
