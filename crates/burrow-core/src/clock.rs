//! The one wall clock of the I/O crates.

/// Wall-clock milliseconds since the Unix epoch (0 if the clock is before it). For the I/O
/// crates; storage and the evaluator always take the time as an argument.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
