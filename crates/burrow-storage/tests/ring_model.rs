//! Differential property test: storage's window placement against a literal model of Burrow's
//! pointer-based `container/ring` walk (`findConsumerOffsetDestination`,
//! `mergeFrequentCommitIntoPrevious`, `storeConsumerOffset`), on random commit sequences.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use burrow_core::{BrokerOffsetEvent, ConsumerOffsetEvent};
use burrow_storage::{Storage, StorageConfig};
use proptest::prelude::*;

const NOW: i64 = 1_700_000_000_000;
const BROKER: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    offset: i64,
    order: i64,
    timestamp: i64,
    lag: Option<u64>,
}

/// Burrow's ring: `slots` with a pointer to the oldest entry (= next write slot).
struct GoRing {
    slots: Vec<Option<Entry>>,
    ptr: usize,
}

impl GoRing {
    fn new(n: usize) -> Self {
        GoRing {
            slots: vec![None; n],
            ptr: 0,
        }
    }
    fn prev(&self, i: usize) -> usize {
        (i + self.slots.len() - 1) % self.slots.len()
    }
    fn next(&self, i: usize) -> usize {
        (i + 1) % self.slots.len()
    }

    /// (insertDest, extendDest), or None to drop.
    fn find_destination(&self, order: i64) -> Option<(Option<usize>, Option<usize>)> {
        let ring = self.ptr;
        let mut dest = ring;
        let prev = self.prev(ring);
        if let Some(latest) = self.slots[prev] {
            if let Some(oldest) = self.slots[ring] {
                if oldest.order >= order {
                    return None;
                }
            }
            if latest.order >= order {
                loop {
                    let prev = self.prev(dest);
                    match self.slots[prev] {
                        None => return Some((Some(prev), None)),
                        Some(_) if prev == ring => return Some((Some(prev), None)),
                        Some(p) if p.order < order => return Some((Some(dest), Some(ring))),
                        Some(p) if p.order == order => return None,
                        Some(_) => dest = prev,
                    }
                }
            }
        }
        Some((None, Some(ring)))
    }

    fn add(&mut self, offset: i64, order: i64, mut timestamp: i64, min_distance_s: i64) {
        let Some((mut insert, mut extend)) = self.find_destination(order) else {
            return;
        };
        let lag = insert.is_none().then(|| (BROKER - offset).max(0) as u64);
        let dest_slot = insert.or(extend).unwrap();
        let prev = self.prev(dest_slot);
        if let Some(p) = self.slots[prev] {
            if p.order < order && timestamp - p.timestamp < min_distance_s * 1000 {
                timestamp = p.timestamp;
                insert = Some(prev);
                extend = None;
            }
        }
        if let (Some(ins), Some(ext)) = (insert, extend) {
            let mut copy_to = ext;
            while copy_to != ins {
                let copy_from = self.prev(copy_to);
                self.slots[copy_to] = self.slots[copy_from];
                self.slots[copy_from] = None;
                copy_to = copy_from;
            }
        }
        let dest_slot = insert.or(extend).unwrap();
        self.slots[dest_slot] = Some(Entry {
            offset,
            order,
            timestamp,
            lag,
        });
        if let Some(ext) = extend {
            self.ptr = self.next(ext);
        }
    }

    /// Slots from the pointer (oldest) to the newest, as Burrow's FetchConsumer reads them.
    fn read(&self) -> Vec<Option<Entry>> {
        let mut out = Vec::with_capacity(self.slots.len());
        let mut i = self.ptr;
        for _ in 0..self.slots.len() {
            out.push(self.slots[i]);
            i = self.next(i);
        }
        out
    }
}

fn commits() -> impl Strategy<Value = Vec<(i64, i64, i64)>> {
    // (order, offset, timestamp delta in seconds): small ranges so that duplicates, reorders and
    // min-distance merges all happen.
    prop::collection::vec((0i64..40, 0i64..1200, -5i64..30), 0..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn storage_places_commits_exactly_like_burrows_ring(
        intervals in 1usize..8,
        min_distance in 0i64..4,
        seq in commits(),
    ) {
        let storage = Storage::new(StorageConfig { intervals, min_distance, ..Default::default() }, ["c"]).unwrap();
        let _ = storage.set_broker_offset(&BrokerOffsetEvent {
            cluster: "c".into(), topic: "t".into(), partition: 0, partition_count: 1,
            offset: BROKER, timestamp: NOW,
        });
        let mut model = GoRing::new(intervals);
        for (order, offset, delta) in seq {
            let timestamp = NOW + delta * 1000;
            let _ = storage.set_consumer_offset(NOW, &ConsumerOffsetEvent {
                cluster: "c".into(), group: "g".into(), topic: "t".into(), partition: 0,
                offset, order, timestamp,
            });
            model.add(offset, order, timestamp, min_distance);

            let Some(topics) = storage.fetch_consumer(NOW, "c", "g") else {
                prop_assert!(model.read().iter().all(Option::is_none));
                continue;
            };
            let got: Vec<Option<Entry>> = topics["t"][0].offsets.iter().map(|o| o.map(|o| Entry {
                offset: o.offset, order: o.order, timestamp: o.timestamp, lag: o.lag,
            })).collect();
            prop_assert_eq!(&got, &model.read());

            // Invariants: exactly `intervals` slots, nulls only before the oldest commit, orders
            // strictly increasing.
            prop_assert_eq!(got.len(), intervals);
            let first = got.iter().position(Option::is_some).unwrap_or(got.len());
            prop_assert!(got[first..].iter().all(Option::is_some));
            let orders: Vec<i64> = got.iter().flatten().map(|e| e.order).collect();
            prop_assert!(orders.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
