//! Go's `time.Time` for templates: its `String()`, `Format` with Go layouts, and the methods a
//! template can call. Burrow's `.Start` is a `time.Time` in the local zone (the zero time, in
//! UTC, when there is no incident); `formattimestamp` formats milliseconds in the local zone.

use std::sync::Arc;

use gotmpl::{Object, TemplateError, Value};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// Seconds from Go's zero time (0001-01-01 UTC) to the Unix epoch, negated.
const ZERO_TIME_UNIX: i64 = -62_135_596_800;

/// A Go `time.Time`: an instant and the zone it is shown in.
#[derive(Debug, Clone)]
pub struct GoTime {
    zoned: Zoned,
}

impl GoTime {
    /// Milliseconds since the epoch in the local zone (Go's `time.Unix(0, ms*1e6)`).
    pub fn local_from_millis(ms: i64) -> Option<GoTime> {
        let ts = Timestamp::from_millisecond(ms).ok()?;
        Some(GoTime {
            zoned: ts.to_zoned(TimeZone::system()),
        })
    }

    /// Go's zero `time.Time` (year 1, UTC): what a template sees without an incident.
    pub fn zero() -> GoTime {
        let ts = Timestamp::new(ZERO_TIME_UNIX, 0).unwrap_or(Timestamp::UNIX_EPOCH);
        GoTime {
            zoned: ts.to_zoned(TimeZone::UTC),
        }
    }

    /// The same instant shown in `tz`.
    fn in_zone(&self, tz: TimeZone) -> GoTime {
        GoTime {
            zoned: self.zoned.timestamp().to_zoned(tz),
        }
    }

    /// Go's `Time.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        format(&self.zoned, layout)
    }

    /// Go's `Time.String()` (without a monotonic clock reading, which Go adds to times taken
    /// from `time.Now()`).
    pub fn go_string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// Go's `Time.Format(time.RFC3339Nano)`, how `encoding/json` writes a time.
    pub fn rfc3339_nano(&self) -> String {
        self.format("2006-01-02T15:04:05.999999999Z07:00")
    }

    fn unix(&self) -> i64 {
        self.zoned.timestamp().as_second()
    }

    fn unix_nanos(&self) -> i128 {
        self.zoned.timestamp().as_nanosecond()
    }

    fn is_zero(&self) -> bool {
        self.unix() == ZERO_TIME_UNIX && self.zoned.subsec_nanosecond() == 0
    }
}

impl Object for GoTime {
    fn type_name(&self) -> &'static str {
        "time.Time"
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        let z = &self.zoned;
        let int = |n: i64| Some(Ok(Value::Int(n)));
        match name {
            "String" => Some(Ok(Value::String(self.go_string().into()))),
            "Unix" => int(self.unix()),
            "UnixMilli" => int((self.unix_nanos() / 1_000_000) as i64),
            "UnixMicro" => int((self.unix_nanos() / 1_000) as i64),
            "UnixNano" => int(self.unix_nanos() as i64),
            "Year" => int(i64::from(z.year())),
            "Month" => Some(Ok(Value::Object(Arc::new(Month(z.month() as i64))))),
            "Day" => int(i64::from(z.day())),
            "Hour" => int(i64::from(z.hour())),
            "Minute" => int(i64::from(z.minute())),
            "Second" => int(i64::from(z.second())),
            "Nanosecond" => int(i64::from(z.subsec_nanosecond())),
            "YearDay" => int(i64::from(z.day_of_year())),
            "Weekday" => Some(Ok(Value::Object(Arc::new(Weekday(i64::from(
                z.weekday().to_sunday_zero_offset(),
            )))))),
            "IsZero" => Some(Ok(Value::Bool(self.is_zero()))),
            "UTC" => Some(Ok(Value::Object(Arc::new(self.in_zone(TimeZone::UTC))))),
            "Local" => Some(Ok(Value::Object(Arc::new(
                self.in_zone(TimeZone::system()),
            )))),
            _ => None,
        }
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<gotmpl::Result<Value>> {
        match name {
            "Format" => Some(match args {
                [Value::String(layout)] => Ok(Value::String(self.format(layout).into())),
                _ => Err(TemplateError::Exec(
                    "wrong arguments for method Format: want one string".into(),
                )),
            }),
            _ => None,
        }
    }

    fn display(&self) -> String {
        self.go_string()
    }

    fn is_stringer(&self) -> bool {
        true
    }
}

/// Go's `time.Month`: prints its English name, compares as its number.
#[derive(Debug)]
struct Month(i64);

impl Object for Month {
    fn type_name(&self) -> &'static str {
        "time.Month"
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        (name == "String").then(|| Ok(Value::String(self.display().into())))
    }
    fn display(&self) -> String {
        usize::try_from(self.0 - 1)
            .ok()
            .and_then(|i| LONG_MONTHS.get(i))
            .map_or_else(|| format!("%!Month({})", self.0), |m| m.to_string())
    }
    fn basic(&self) -> Option<Value> {
        Some(Value::Int(self.0))
    }
    fn is_stringer(&self) -> bool {
        true
    }
}

/// Go's `time.Weekday`: prints its English name, compares as its number (Sunday = 0).
#[derive(Debug)]
struct Weekday(i64);

impl Object for Weekday {
    fn type_name(&self) -> &'static str {
        "time.Weekday"
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn field(&self, name: &str) -> Option<gotmpl::Result<Value>> {
        (name == "String").then(|| Ok(Value::String(self.display().into())))
    }
    fn display(&self) -> String {
        usize::try_from(self.0)
            .ok()
            .and_then(|i| LONG_DAYS.get(i))
            .map_or_else(|| format!("%!Weekday({})", self.0), |d| d.to_string())
    }
    fn basic(&self) -> Option<Value> {
        Some(Value::Int(self.0))
    }
    fn is_stringer(&self) -> bool {
        true
    }
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// One element of a Go layout (Go's `std*` constants).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TzAbbrev,
    Iso8601Tz,
    Iso8601SecondsTz,
    Iso8601ShortTz,
    Iso8601ColonTz,
    Iso8601ColonSecondsTz,
    NumTz,
    NumSecondsTz,
    NumShortTz,
    NumColonTz,
    NumColonSecondsTz,
    /// `.000` (digits kept) or `.999` (trailing zeros dropped), with `,` or `.`.
    Frac {
        digits: usize,
        trim: bool,
        separator: u8,
    },
}

/// Go's `nextStdChunk`: the text before the next layout element, the element, and the rest.
fn next_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let starts = |i: usize, s: &str| layout[i..].starts_with(s);
    // "Jan" and "Mon" are elements only when no lowercase letter follows ("Month" is text).
    let word = |i: usize, s: &str| {
        starts(i, s) && !b.get(i + s.len()).is_some_and(|c| c.is_ascii_lowercase())
    };
    for i in 0..b.len() {
        let found = |n: usize, std: Std| Some((i, n, std));
        let hit = match b[i] {
            b'J' if starts(i, "January") => found(7, Std::LongMonth),
            b'J' if word(i, "Jan") => found(3, Std::Month),
            b'M' if starts(i, "Monday") => found(6, Std::LongWeekDay),
            b'M' if word(i, "Mon") => found(3, Std::WeekDay),
            b'M' if starts(i, "MST") => found(3, Std::TzAbbrev),
            b'0' if starts(i, "002") => found(3, Std::ZeroYearDay),
            b'0' if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) => {
                let std = [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][usize::from(b[i + 1] - b'1')];
                found(2, std)
            }
            b'1' if starts(i, "15") => found(2, Std::Hour),
            b'1' => found(1, Std::NumMonth),
            b'2' if starts(i, "2006") => found(4, Std::LongYear),
            b'2' => found(1, Std::Day),
            b'_' if starts(i, "_2006") => {
                // The '_' is text; the year follows.
                return (&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]);
            }
            b'_' if starts(i, "__2") => found(3, Std::UnderYearDay),
            b'_' if starts(i, "_2") => found(2, Std::UnderDay),
            b'3' => found(1, Std::Hour12),
            b'4' => found(1, Std::Minute),
            b'5' => found(1, Std::Second),
            b'P' if starts(i, "PM") => found(2, Std::PM),
            b'p' if starts(i, "pm") => found(2, Std::Pm),
            b'-' if starts(i, "-070000") => found(7, Std::NumSecondsTz),
            b'-' if starts(i, "-07:00:00") => found(9, Std::NumColonSecondsTz),
            b'-' if starts(i, "-0700") => found(5, Std::NumTz),
            b'-' if starts(i, "-07:00") => found(6, Std::NumColonTz),
            b'-' if starts(i, "-07") => found(3, Std::NumShortTz),
            b'Z' if starts(i, "Z070000") => found(7, Std::Iso8601SecondsTz),
            b'Z' if starts(i, "Z07:00:00") => found(9, Std::Iso8601ColonSecondsTz),
            b'Z' if starts(i, "Z0700") => found(5, Std::Iso8601Tz),
            b'Z' if starts(i, "Z07:00") => found(6, Std::Iso8601ColonTz),
            b'Z' if starts(i, "Z07") => found(3, Std::Iso8601ShortTz),
            b'.' | b',' if i + 1 < b.len() && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    None
                } else {
                    found(
                        j - i,
                        Std::Frac {
                            digits: j - i - 1,
                            trim: ch == b'9',
                            separator: b[i],
                        },
                    )
                }
            }
            _ => None,
        };
        if let Some((i, n, std)) = hit {
            return (&layout[..i], Some(std), &layout[i + n..]);
        }
    }
    (layout, None, "")
}

/// Go's `Time.Format`.
fn format(z: &Zoned, layout: &str) -> String {
    let mut out = String::with_capacity(layout.len() + 10);
    let mut rest = layout;
    while !rest.is_empty() {
        let (prefix, std, after) = next_chunk(rest);
        out.push_str(prefix);
        let Some(std) = std else { break };
        element(&mut out, z, std);
        rest = after;
    }
    out
}

fn pad(out: &mut String, n: i64, width: usize) {
    if n < 0 {
        out.push('-');
        out.push_str(&format!("{:0width$}", -n));
    } else {
        out.push_str(&format!("{n:0width$}"));
    }
}

fn element(out: &mut String, z: &Zoned, std: Std) {
    let year = i64::from(z.year());
    let month = i64::from(z.month());
    let hour = i64::from(z.hour());
    let hour12 = if hour % 12 == 0 { 12 } else { hour % 12 };
    let weekday = z.weekday().to_sunday_zero_offset() as usize;
    let offset = z.offset().seconds();
    match std {
        Std::LongYear => pad(out, year, 4),
        Std::Year => pad(out, year.rem_euclid(100), 2),
        Std::LongMonth => out.push_str(LONG_MONTHS[(month - 1) as usize]),
        Std::Month => out.push_str(&LONG_MONTHS[(month - 1) as usize][..3]),
        Std::NumMonth => pad(out, month, 1),
        Std::ZeroMonth => pad(out, month, 2),
        Std::LongWeekDay => out.push_str(LONG_DAYS[weekday]),
        Std::WeekDay => out.push_str(&LONG_DAYS[weekday][..3]),
        Std::Day => pad(out, i64::from(z.day()), 1),
        Std::UnderDay => out.push_str(&format!("{:>2}", z.day())),
        Std::ZeroDay => pad(out, i64::from(z.day()), 2),
        Std::UnderYearDay => out.push_str(&format!("{:>3}", z.day_of_year())),
        Std::ZeroYearDay => pad(out, i64::from(z.day_of_year()), 3),
        Std::Hour => pad(out, hour, 2),
        Std::Hour12 => pad(out, hour12, 1),
        Std::ZeroHour12 => pad(out, hour12, 2),
        Std::Minute => pad(out, i64::from(z.minute()), 1),
        Std::ZeroMinute => pad(out, i64::from(z.minute()), 2),
        Std::Second => pad(out, i64::from(z.second()), 1),
        Std::ZeroSecond => pad(out, i64::from(z.second()), 2),
        Std::PM => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
        Std::Pm => out.push_str(if hour >= 12 { "pm" } else { "am" }),
        Std::TzAbbrev => {
            let info = z.time_zone().to_offset_info(z.timestamp());
            let name = info.abbreviation();
            if name.is_empty() {
                // Go prints a zone without a name as -0700.
                zone(out, offset, false, false, false);
            } else {
                out.push_str(name);
            }
        }
        Std::Iso8601Tz
        | Std::Iso8601ColonTz
        | Std::Iso8601SecondsTz
        | Std::Iso8601ColonSecondsTz
        | Std::Iso8601ShortTz
            if offset == 0 =>
        {
            out.push('Z')
        }
        Std::Iso8601Tz | Std::NumTz => zone(out, offset, false, false, false),
        Std::Iso8601ColonTz | Std::NumColonTz => zone(out, offset, true, false, false),
        Std::Iso8601SecondsTz | Std::NumSecondsTz => zone(out, offset, false, true, false),
        Std::Iso8601ColonSecondsTz | Std::NumColonSecondsTz => zone(out, offset, true, true, false),
        Std::Iso8601ShortTz | Std::NumShortTz => zone(out, offset, false, false, true),
        Std::Frac {
            digits,
            trim,
            separator,
        } => fraction(out, z.subsec_nanosecond(), digits, trim, separator),
    }
}

/// A zone offset as ±hh[:]mm[[:]ss], or ±hh alone.
fn zone(out: &mut String, offset: i32, colon: bool, seconds: bool, short: bool) {
    let (sign, abs) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    out.push(sign);
    pad(out, i64::from(abs / 3600), 2);
    if short {
        return;
    }
    if colon {
        out.push(':');
    }
    pad(out, i64::from(abs / 60 % 60), 2);
    if seconds {
        if colon {
            out.push(':');
        }
        pad(out, i64::from(abs % 60), 2);
    }
}

/// Fractional seconds: `digits` digits of the nanoseconds (truncated); with `trim`, trailing
/// zeros dropped, and the separator too when nothing is left.
fn fraction(out: &mut String, nanos: i32, digits: usize, trim: bool, separator: u8) {
    let all = format!("{:09}", nanos.max(0));
    let mut kept = &all[..digits.min(9)];
    if trim {
        kept = kept.trim_end_matches('0');
        if kept.is_empty() {
            return;
        }
    }
    out.push(char::from(separator));
    out.push_str(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(seconds: i64, nanos: i32) -> GoTime {
        GoTime {
            zoned: Timestamp::new(seconds, nanos)
                .unwrap()
                .to_zoned(TimeZone::UTC),
        }
    }

    /// Expected values written from Go's documentation of the reference time
    /// (Mon Jan 2 15:04:05 MST 2006) applied to 2023-11-14 22:13:20.123456 UTC.
    #[test]
    fn layouts_format_as_go_does() {
        let t = utc(1_700_000_000, 123_456_000);
        let cases = [
            ("2006-01-02T15:04:05Z07:00", "2023-11-14T22:13:20Z"),
            ("Jan 02, 2006 15:04:05 UTC", "Nov 14, 2023 22:13:20 UTC"),
            (
                "Monday January _2 3:4:5 PM MST",
                "Tuesday November 14 10:13:20 PM UTC",
            ),
            (
                "Mon Jan 2 03 04 05 pm -0700 -07:00 -07",
                "Tue Nov 14 10 13 20 pm +0000 +00:00 +00",
            ),
            (".000 .999 ,000000 .999999999", ".123 .123 ,123456 .123456"),
            ("06 1 002 __2", "23 11 318 318"),
            (
                "2006-01-02 15:04:05.999999999 -0700 MST",
                "2023-11-14 22:13:20.123456 +0000 UTC",
            ),
            ("no layout here", "no layout here"),
            ("1.000a .0001", "11.123a .0011"),
            ("Month Monday Jan2", "Month Tuesday Nov14"),
        ];
        for (layout, want) in cases {
            assert_eq!(t.format(layout), want, "{layout}");
        }
    }

    #[test]
    fn the_zero_time_is_year_one_in_utc() {
        let z = GoTime::zero();
        assert_eq!(z.go_string(), "0001-01-01 00:00:00 +0000 UTC");
        assert!(z.is_zero());
        assert_eq!(z.unix(), ZERO_TIME_UNIX);
    }

    #[test]
    fn whole_seconds_drop_the_trimmed_fraction() {
        assert_eq!(utc(0, 0).format("05.999"), "00");
        assert_eq!(utc(0, 500_000_000).format("05.999"), "00.5");
    }
}
