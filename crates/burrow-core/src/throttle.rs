//! Rate-limited logging: the first occurrence, then at most one line per period, each with how
//! many occurrences it stood for.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Decides when a repeated event is logged.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    last: Mutex<Option<Instant>>,
    suppressed: AtomicU64,
}

impl Throttle {
    /// Logs at most once per `every`.
    pub fn new(every: Duration) -> Self {
        Throttle {
            every,
            last: Mutex::new(None),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when this occurrence is to be logged, `n` being how many were not logged since
    /// the last line; `None` when it is only counted.
    pub fn allow(&self) -> Option<u64> {
        self.allow_at(Instant::now())
    }

    fn allow_at(&self, now: Instant) -> Option<u64> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match *last {
            Some(at) if now.saturating_duration_since(at) < self.every => {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
                None
            }
            _ => {
                *last = Some(now);
                Some(self.suppressed.swap(0, Ordering::Relaxed))
            }
        }
    }
}

/// A [`Throttle`] per key (a broker and an API, say): each key is logged first, then at most
/// once per period, independently of the others.
#[derive(Debug)]
pub struct ThrottleMap<K> {
    every: Duration,
    keys: Mutex<HashMap<K, (Instant, u64)>>,
}

impl<K: Eq + Hash> ThrottleMap<K> {
    /// Logs each key at most once per `every`.
    pub fn new(every: Duration) -> Self {
        ThrottleMap {
            every,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// [`Throttle::allow`] for `key`.
    pub fn allow(&self, key: K) -> Option<u64> {
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&self, key: K, now: Instant) -> Option<u64> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        match keys.get_mut(&key) {
            Some((last, suppressed)) if now.saturating_duration_since(*last) < self.every => {
                *suppressed += 1;
                None
            }
            Some((last, suppressed)) => {
                *last = now;
                Some(std::mem::take(suppressed))
            }
            None => {
                keys.insert(key, (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_then_once_per_period_with_the_count() {
        let t = Throttle::new(Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(t.allow_at(start), Some(0));
        assert_eq!(t.allow_at(start + Duration::from_secs(1)), None);
        assert_eq!(t.allow_at(start + Duration::from_secs(59)), None);
        assert_eq!(t.allow_at(start + Duration::from_secs(60)), Some(2));
        assert_eq!(t.allow_at(start + Duration::from_secs(61)), None);
        assert_eq!(t.allow_at(start + Duration::from_secs(200)), Some(1));
    }

    #[test]
    fn each_key_is_throttled_on_its_own() {
        let t = ThrottleMap::new(Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(t.allow_at(("b1", "Fetch"), start), Some(0));
        assert_eq!(
            t.allow_at(("b1", "Fetch"), start + Duration::from_secs(1)),
            None
        );
        assert_eq!(
            t.allow_at(("b2", "Fetch"), start + Duration::from_secs(1)),
            Some(0)
        );
        assert_eq!(
            t.allow_at(("b1", "Metadata"), start + Duration::from_secs(2)),
            Some(0)
        );
        assert_eq!(
            t.allow_at(("b1", "Fetch"), start + Duration::from_secs(3)),
            None
        );
        assert_eq!(
            t.allow_at(("b1", "Fetch"), start + Duration::from_secs(61)),
            Some(2)
        );
    }
}
