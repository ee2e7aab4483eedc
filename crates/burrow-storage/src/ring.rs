//! The commit window of one group partition and the broker-offset window of one topic partition.
//!
//! Burrow keeps both in `container/ring` rings with a pointer; occupied slots are always contiguous
//! and end just before the pointer, so a ring is equivalent to a list of at most `intervals` entries
//! ordered oldest to newest. That is what these types store (a `VecDeque` of exactly `intervals`
//! capacity), and the placement rules below are written in terms of list indexes. The mapping to
//! Burrow's ring walk is given at each step.

use std::collections::VecDeque;

use burrow_core::{BrokerOffset, ConsumerOffset};

/// Sentinel for "no lag recorded" (commits inserted out of order). Real lags are differences of two
/// non-negative `i64` values, so they never reach it.
const NO_LAG: u64 = u64::MAX;

/// One stored commit: 40 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) offset: i64,
    pub(crate) order: i64,
    pub(crate) timestamp: i64,
    pub(crate) observed_at: i64,
    lag: u64,
}

impl Slot {
    pub(crate) fn new(
        offset: i64,
        order: i64,
        timestamp: i64,
        observed_at: i64,
        lag: Option<u64>,
    ) -> Self {
        Slot {
            offset,
            order,
            timestamp,
            observed_at,
            lag: lag.unwrap_or(NO_LAG),
        }
    }

    pub(crate) fn lag(&self) -> Option<u64> {
        (self.lag != NO_LAG).then_some(self.lag)
    }

    pub(crate) fn to_offset(self) -> ConsumerOffset {
        ConsumerOffset {
            offset: self.offset,
            order: self.order,
            timestamp: self.timestamp,
            observed_at: self.observed_at,
            lag: self.lag(),
        }
    }
}

/// Where a commit goes in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Newest commit: appended, evicting the oldest when full. The only path that records a lag.
    Append,
    /// Older than every stored commit of a window that is not full: stored as the new oldest
    /// (Burrow: the walk reached an empty slot).
    PushFront,
    /// Replaces the entry at this index in place (Burrow: the walk reached the pointer slot of a
    /// full ring, i.e. the oldest entry; or a min-distance merge).
    Overwrite(usize),
    /// Goes right after the entry at this index, shifting newer entries forward and evicting the
    /// oldest when full.
    InsertAfter(usize),
}

/// Why a commit was not placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// The window is full and its oldest commit is not older than this one.
    OlderThanWindow,
    /// A commit with the same order is stored already.
    DuplicateOrder,
}

/// The commit window of one group partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommitRing {
    entries: VecDeque<Slot>,
}

impl CommitRing {
    pub(crate) fn new(intervals: usize) -> Self {
        CommitRing {
            entries: VecDeque::with_capacity(intervals),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Removes every entry.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Entries oldest to newest.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Slot> + ExactSizeIterator {
        self.entries.iter()
    }

    /// Finds where a commit with `order` goes (Burrow's `findConsumerOffsetDestination`).
    pub(crate) fn destination(
        &self,
        order: i64,
        intervals: usize,
    ) -> Result<Destination, Rejection> {
        let n = self.entries.len();
        let Some(newest) = self.entries.back() else {
            return Ok(Destination::Append);
        };
        let full = n >= intervals;
        if full && self.entries[0].order >= order {
            return Err(Rejection::OlderThanWindow);
        }
        if newest.order < order {
            return Ok(Destination::Append);
        }
        // Walk back from the newest entry. Burrow's walk looks at the slot before the current one;
        // stepping onto the pointer slot of a full ring (the oldest entry, index 0) overwrites it
        // without comparing orders, stepping past the oldest entry of a non-full ring lands on an
        // empty slot and stores the commit there.
        for j in (0..n).rev() {
            if j == 0 && full {
                return Ok(Destination::Overwrite(0));
            }
            let prev = self.entries[j].order;
            if prev < order {
                return Ok(Destination::InsertAfter(j));
            }
            if prev == order {
                return Err(Rejection::DuplicateOrder);
            }
        }
        Ok(Destination::PushFront)
    }

    /// The entry at index `i` (0 = oldest).
    pub(crate) fn get(&self, i: usize) -> Option<&Slot> {
        self.entries.get(i)
    }

    /// The index of the entry just before the slot `dest` writes into (Burrow's
    /// `destinationSlot().Prev()`), which the min-distance merge looks at; `None` when that slot is
    /// empty.
    pub(crate) fn index_before(&self, dest: Destination, intervals: usize) -> Option<usize> {
        let n = self.entries.len();
        let newest = n.checked_sub(1);
        match dest {
            // The destination is the pointer slot; before it sits the newest entry.
            Destination::Append => newest,
            // In a full ring index 0 is the pointer slot, preceded by the newest entry.
            Destination::Overwrite(0) if n >= intervals => newest,
            Destination::Overwrite(i) => i.checked_sub(1),
            // The destination is the empty slot before the oldest entry; before it is another empty
            // slot, or (when only one slot is free) the pointer slot preceded by the newest entry.
            Destination::PushFront if n + 1 == intervals => newest,
            Destination::PushFront => None,
            // The destination is the slot that holds entry i + 1; before it sits entry i.
            Destination::InsertAfter(i) => Some(i),
        }
    }

    /// Writes `slot` at `dest`.
    pub(crate) fn store(&mut self, dest: Destination, slot: Slot, intervals: usize) {
        match dest {
            Destination::Append => {
                if self.entries.len() >= intervals {
                    self.entries.pop_front();
                }
                self.entries.push_back(slot);
            }
            Destination::PushFront => {
                debug_assert!(self.entries.len() < intervals);
                self.entries.push_front(slot);
            }
            Destination::Overwrite(i) => {
                if let Some(entry) = self.entries.get_mut(i) {
                    *entry = slot;
                }
            }
            Destination::InsertAfter(i) => {
                if self.entries.len() >= intervals {
                    // The shift moves every newer entry one slot forward into the pointer slot,
                    // which held the oldest entry.
                    self.entries.pop_front();
                    self.entries.insert(i, slot);
                } else {
                    self.entries.insert(i + 1, slot);
                }
            }
        }
    }

    /// Replaces the entries (oldest first); used by snapshot import. Keeps the newest `intervals`.
    pub(crate) fn from_slots(slots: impl IntoIterator<Item = Slot>, intervals: usize) -> Self {
        let mut ring = CommitRing::new(intervals);
        for slot in slots {
            if ring.entries.len() >= intervals {
                ring.entries.pop_front();
            }
            ring.entries.push_back(slot);
        }
        ring
    }
}

/// The broker end offsets of one topic partition, oldest to newest, at most `intervals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BrokerRing {
    entries: VecDeque<BrokerOffset>,
}

impl BrokerRing {
    pub(crate) fn new() -> Self {
        BrokerRing {
            entries: VecDeque::new(),
        }
    }

    pub(crate) fn push(&mut self, value: BrokerOffset, intervals: usize) {
        if self.entries.capacity() == 0 {
            self.entries.reserve_exact(intervals);
        }
        while self.entries.len() >= intervals {
            self.entries.pop_front();
        }
        self.entries.push_back(value);
    }

    pub(crate) fn newest(&self) -> Option<&BrokerOffset> {
        self.entries.back()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &BrokerOffset> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring_with(orders: &[i64], intervals: usize) -> CommitRing {
        CommitRing::from_slots(
            orders
                .iter()
                .map(|&o| Slot::new(o * 10, o, o * 1000, 0, Some(0))),
            intervals,
        )
    }

    fn orders(ring: &CommitRing) -> Vec<i64> {
        ring.iter().map(|s| s.order).collect()
    }

    fn place(
        ring: &mut CommitRing,
        order: i64,
        intervals: usize,
    ) -> Result<Destination, Rejection> {
        let dest = ring.destination(order, intervals)?;
        ring.store(
            dest,
            Slot::new(order * 10, order, order * 1000, 0, None),
            intervals,
        );
        Ok(dest)
    }

    #[test]
    fn slot_is_forty_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 40);
    }

    #[test]
    fn empty_ring_appends() {
        let mut r = CommitRing::new(3);
        assert_eq!(place(&mut r, 5, 3), Ok(Destination::Append));
        assert_eq!(orders(&r), vec![5]);
    }

    #[test]
    fn newer_order_appends_and_evicts_oldest_when_full() {
        let mut r = ring_with(&[1, 2, 3], 3);
        assert_eq!(place(&mut r, 4, 3), Ok(Destination::Append));
        assert_eq!(orders(&r), vec![2, 3, 4]);
    }

    #[test]
    fn full_ring_drops_commit_not_newer_than_oldest() {
        let r = ring_with(&[5, 6, 7], 3);
        assert_eq!(r.destination(5, 3), Err(Rejection::OlderThanWindow));
        assert_eq!(r.destination(1, 3), Err(Rejection::OlderThanWindow));
    }

    #[test]
    fn duplicate_order_is_dropped() {
        let r = ring_with(&[5, 6, 7], 4);
        assert_eq!(r.destination(7, 4), Err(Rejection::DuplicateOrder));
        assert_eq!(r.destination(6, 4), Err(Rejection::DuplicateOrder));
        assert_eq!(r.destination(5, 4), Err(Rejection::DuplicateOrder));
    }

    #[test]
    fn out_of_order_commit_is_inserted_in_place() {
        let mut r = ring_with(&[2, 4, 6], 5);
        assert_eq!(place(&mut r, 5, 5), Ok(Destination::InsertAfter(1)));
        assert_eq!(orders(&r), vec![2, 4, 5, 6]);
        assert_eq!(place(&mut r, 3, 5), Ok(Destination::InsertAfter(0)));
        assert_eq!(orders(&r), vec![2, 3, 4, 5, 6]);
    }

    #[test]
    fn insert_into_full_ring_evicts_oldest() {
        let mut r = ring_with(&[2, 4, 6], 3);
        assert_eq!(place(&mut r, 5, 3), Ok(Destination::InsertAfter(1)));
        assert_eq!(orders(&r), vec![4, 5, 6]);
    }

    #[test]
    fn older_than_all_in_non_full_ring_becomes_oldest() {
        let mut r = ring_with(&[4, 6], 4);
        assert_eq!(place(&mut r, 1, 4), Ok(Destination::PushFront));
        assert_eq!(orders(&r), vec![1, 4, 6]);
        assert_eq!(place(&mut r, 0, 4), Ok(Destination::PushFront));
        assert_eq!(orders(&r), vec![0, 1, 4, 6]);
        assert_eq!(r.destination(-1, 4), Err(Rejection::OlderThanWindow));
    }

    #[test]
    fn full_ring_commit_between_oldest_and_second_replaces_oldest() {
        let mut r = ring_with(&[2, 6, 8], 3);
        assert_eq!(place(&mut r, 4, 3), Ok(Destination::Overwrite(0)));
        assert_eq!(orders(&r), vec![4, 6, 8]);
    }

    #[test]
    fn ring_of_one() {
        let mut r = ring_with(&[3], 1);
        assert_eq!(r.destination(3, 1), Err(Rejection::OlderThanWindow));
        assert_eq!(place(&mut r, 4, 1), Ok(Destination::Append));
        assert_eq!(orders(&r), vec![4]);
    }

    #[test]
    fn slot_before_each_destination() {
        let full = ring_with(&[2, 6, 8], 3);
        assert_eq!(full.index_before(Destination::Append, 3), Some(2));
        assert_eq!(full.index_before(Destination::Overwrite(0), 3), Some(2));
        assert_eq!(full.index_before(Destination::InsertAfter(1), 3), Some(1));
        let partial = ring_with(&[2, 6], 4);
        assert_eq!(partial.index_before(Destination::PushFront, 4), None);
        assert_eq!(partial.index_before(Destination::Overwrite(1), 4), Some(0));
        let almost = ring_with(&[2, 6], 3);
        assert_eq!(almost.index_before(Destination::PushFront, 3), Some(1));
        assert_eq!(
            CommitRing::new(3).index_before(Destination::Append, 3),
            None
        );
    }

    #[test]
    fn broker_ring_keeps_newest_intervals() {
        let mut r = BrokerRing::new();
        assert!(r.newest().is_none());
        for i in 0..5 {
            r.push(
                BrokerOffset {
                    offset: i,
                    timestamp: i,
                },
                3,
            );
        }
        assert_eq!(
            r.iter().map(|b| b.offset).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert_eq!(r.newest().map(|b| b.offset), Some(4));
    }
}
