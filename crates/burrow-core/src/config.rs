//! Value types for configuration sections, shared by the crates that own a section of
//! `burrow.toml`: a number of seconds that is a [`Duration`] from the moment it is read, and an
//! integer with a range. Both carry their range in the type, so a section's struct says what it
//! accepts and an out-of-range value is refused while the file is read, with the key named by the
//! deserializer's path.
//!
//! Why ranges at all: a value such as `timeout = 9223372036854775807` is a valid TOML integer,
//! and a duration that large overflows the first time it is added to an instant.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Longest duration any key accepts: ten years, far beyond any sensible interval and far below
/// what `Instant + Duration` can hold.
pub const MAX_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// Whole seconds between `MIN` and `MAX` (inclusive), read from a TOML integer and held as a
/// [`Duration`]. Serializes as the integer it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds<const MIN: u64, const MAX: u64>(Duration);

impl<const MIN: u64, const MAX: u64> Seconds<MIN, MAX> {
    /// `secs` seconds, clamped to the range (for defaults written in code; use
    /// [`Seconds::try_new`] to refuse a value outside it).
    pub const fn new(secs: u64) -> Self {
        let secs = if secs < MIN {
            MIN
        } else if secs > MAX {
            MAX
        } else {
            secs
        };
        Seconds(Duration::from_secs(secs))
    }

    /// `secs` seconds, or the range as a message when it is outside it.
    pub fn try_new(secs: i64) -> Result<Self, String> {
        u64::try_from(secs)
            .ok()
            .filter(|s| (MIN..=MAX).contains(s))
            .map(|s| Seconds(Duration::from_secs(s)))
            .ok_or_else(|| Self::range_message(secs))
    }

    /// The duration.
    pub const fn get(self) -> Duration {
        self.0
    }

    /// The whole seconds.
    pub const fn secs(self) -> u64 {
        self.0.as_secs()
    }

    /// True for zero seconds (keys where 0 switches a feature off).
    pub const fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    fn range_message(got: i64) -> String {
        format!(
            "must be between {MIN} and {MAX} seconds{}, got {got}",
            if MAX == MAX_SECONDS {
                " (ten years)"
            } else {
                ""
            }
        )
    }
}

/// The shortest duration of the range.
impl<const MIN: u64, const MAX: u64> Default for Seconds<MIN, MAX> {
    fn default() -> Self {
        Self::new(MIN)
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Display for Seconds<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.secs())
    }
}

impl<const MIN: u64, const MAX: u64> Serialize for Seconds<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.secs() as i64)
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Seconds<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = d.deserialize_i64(IntVisitor("a whole number of seconds"))?;
        Self::try_new(secs).map_err(de::Error::custom)
    }
}

/// An integer between `MIN` and `MAX` (inclusive). Serializes as the integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounded<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Bounded<MIN, MAX> {
    /// `value`, clamped to the range (for defaults written in code).
    pub const fn new(value: i64) -> Self {
        Bounded(if value < MIN {
            MIN
        } else if value > MAX {
            MAX
        } else {
            value
        })
    }

    /// `value`, or the range as a message when it is outside it.
    pub fn try_new(value: i64) -> Result<Self, String> {
        if (MIN..=MAX).contains(&value) {
            Ok(Bounded(value))
        } else {
            Err(format!("must be between {MIN} and {MAX}, got {value}"))
        }
    }

    /// The value.
    pub const fn get(self) -> i64 {
        self.0
    }
}

/// Zero, or the bound of the range nearest to it.
impl<const MIN: i64, const MAX: i64> Default for Bounded<MIN, MAX> {
    fn default() -> Self {
        Self::new(0)
    }
}

impl<const MIN: i64, const MAX: i64> fmt::Display for Bounded<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const MIN: i64, const MAX: i64> Serialize for Bounded<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = d.deserialize_i64(IntVisitor("an integer"))?;
        Self::try_new(value).map_err(de::Error::custom)
    }
}

/// Accepts any integer the format holds (TOML integers are i64; u64 beyond it is refused).
struct IntVisitor(&'static str);

impl Visitor<'_> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is too large")))
    }
}

/// `serialize_with` for an optional key: `None` is written as the type's default so that the
/// serialized defaults of a section name every key with its type (the environment overrides are
/// derived from them).
pub fn none_as_default<T, S>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error>
where
    T: Serialize + Default,
    S: Serializer,
{
    match value {
        Some(v) => v.serialize(s),
        None => T::default().serialize(s),
    }
}

/// A configuration value that cannot be used: the key path it is under
/// (`cluster.local.offset-refresh`) and why. The configuration types of every crate report this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// Full key path, `section.name.key`.
    pub key: String,
    /// What is wrong, with the value.
    pub message: String,
}

impl ConfigError {
    /// An error for `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Checks `host:port` as Burrow validates addresses: a port that is a number up to 65535, a host
/// (which may be blank only when `blank_host`, meaning every interface) without spaces or slashes.
pub fn check_host_port(key: &str, value: &str, blank_host: bool) -> Result<(), ConfigError> {
    let err = |m: &str| Err(ConfigError::new(key, format!("{value:?} {m}")));
    let Some((host, port)) = value.rsplit_once(':') else {
        return err("is not host:port");
    };
    if port.parse::<u16>().is_err() {
        return err("has an invalid port");
    }
    if host.is_empty() && !blank_host {
        return err("has no host");
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.chars().any(|c| c.is_whitespace() || c == '/') {
        return err("has an invalid host");
    }
    Ok(())
}

/// Refuses Burrow's pre-1.3 names of the group lists (`group-whitelist`, `group-blacklist`),
/// naming the key and its new name. `key` is the section's path.
pub fn refuse_renamed_lists(
    key: &str,
    whitelist: &Option<String>,
    blacklist: &Option<String>,
) -> Result<(), ConfigError> {
    let renamed = |old: &str, new: &str| {
        ConfigError::new(
            format!("{key}.{old}"),
            format!("renamed: use {new} (Burrow: please change configurations to allowlist and denylist)"),
        )
    };
    if whitelist.is_some() {
        return Err(renamed("group-whitelist", "group-allowlist"));
    }
    if blacklist.is_some() {
        return Err(renamed("group-blacklist", "group-denylist"));
    }
    Ok(())
}

/// Checks every `host:port` of a server list, which must not be empty.
pub fn check_servers(key: &str, servers: &[String]) -> Result<(), ConfigError> {
    if servers.is_empty() {
        return Err(ConfigError::new(key, "at least one host:port is required"));
    }
    servers
        .iter()
        .try_for_each(|s| check_host_port(key, s, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Section {
        timeout: Seconds<1, MAX_SECONDS>,
        refresh: Seconds<0, 3600>,
        port: Bounded<1, 65535>,
    }

    fn parse(text: &str) -> Result<Section, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn ranges_are_checked_when_read() {
        let s = parse(r#"{"timeout": 30, "refresh": 0, "port": 8080}"#).unwrap();
        assert_eq!(s.timeout.get(), Duration::from_secs(30));
        assert!(s.refresh.is_zero());
        assert_eq!(s.port.get(), 8080);
        let e = parse(r#"{"timeout": 9223372036854775807, "refresh": 0, "port": 1}"#).unwrap_err();
        assert!(e.contains("between 1 and 315360000 seconds"), "{e}");
        let e = parse(r#"{"timeout": 1, "refresh": -1, "port": 1}"#).unwrap_err();
        assert!(e.contains("between 0 and 3600 seconds, got -1"), "{e}");
        let e = parse(r#"{"timeout": 1, "refresh": 1, "port": 70000}"#).unwrap_err();
        assert!(e.contains("between 1 and 65535, got 70000"), "{e}");
        let e = parse(r#"{"timeout": 18446744073709551615, "refresh": 1, "port": 1}"#).unwrap_err();
        assert!(e.contains("too large"), "{e}");
        let e = parse(r#"{"timeout": "30s", "refresh": 1, "port": 1}"#).unwrap_err();
        assert!(e.contains("a whole number of seconds"), "{e}");
    }

    #[test]
    fn serializes_as_the_integer_read() {
        let s = parse(r#"{"timeout": 30, "refresh": 5, "port": 80}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"timeout":30,"refresh":5,"port":80}"#
        );
    }

    #[test]
    fn addresses_are_host_and_port() {
        assert!(check_host_port("k", "kafka:9092", false).is_ok());
        assert!(check_host_port("k", "[::1]:9092", false).is_ok());
        assert!(check_host_port("k", ":8000", true).is_ok());
        let e = check_host_port("k", ":8000", false).unwrap_err();
        assert_eq!(e.to_string(), "k: \":8000\" has no host");
        assert!(check_host_port("k", "kafka", false).is_err());
        assert!(check_host_port("k", "kafka:99999", false).is_err());
        assert!(check_host_port("k", "ka fka:1", false).is_err());
        assert!(check_servers("k", &[]).is_err());
    }

    #[test]
    fn constructors_clamp_or_refuse() {
        assert_eq!(Seconds::<1, 10>::new(0).secs(), 1);
        assert_eq!(Seconds::<1, 10>::new(99).secs(), 10);
        assert!(Seconds::<1, 10>::try_new(11).is_err());
        assert_eq!(Bounded::<1, 3>::new(9).get(), 3);
    }
}
