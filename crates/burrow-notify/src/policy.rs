//! Burrow's alert policy (spec §7.1–7.2), pure: time and incident ids are passed in.

use std::collections::HashMap;

use burrow_core::Status;

use crate::NotificationKind;

/// Groups a notifier is for: the storage module's allow/deny filter (unanchored regexes; empty
/// = not set). Build it with [`GroupFilter::new`] and a `notifier.<name>` key prefix.
pub use burrow_storage::GroupFilter;

/// The policy keys of one `[notifier.X]` section.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Seconds between evaluations of each group (`interval`, default 60).
    pub interval: i64,
    /// Minimum seconds between two open notifications of a group (`send-interval`, default
    /// `interval`).
    pub send_interval: i64,
    /// Minimum group status to notify, as Burrow's integer (1 OK, 2 WARN, 3 ERR; default 2).
    pub threshold: i32,
    /// Send only the first open notification of an incident.
    pub send_once: bool,
    /// Send a close notification when an incident returns to OK.
    pub send_close: bool,
    /// Groups to notify for.
    pub filter: GroupFilter,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            interval: 60,
            send_interval: 60,
            threshold: 2,
            send_once: false,
            send_close: false,
            filter: GroupFilter::default(),
        }
    }
}

/// What one notifier does with one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to send.
    Nothing,
    /// Send an open notification; remember `now` as its last notification.
    Open,
    /// Send a close notification; forget its last notification.
    Close,
}

/// Burrow's per-module decision (§7.2), in its order:
/// 1. an open incident, status OK and `send-close` → close (whatever the threshold);
/// 2. status below `threshold` → nothing;
/// 3. `send-once` and already notified → nothing;
/// 4. more than `send-interval` since the last open notification (or never) → open.
pub fn decide(
    policy: &Policy,
    now_ms: i64,
    incident_open: bool,
    status: Status,
    last_notify_ms: Option<i64>,
) -> Decision {
    if incident_open && status == Status::Ok && policy.send_close {
        return Decision::Close;
    }
    if status.as_i32() < policy.threshold {
        return Decision::Nothing;
    }
    if policy.send_once && last_notify_ms.is_some() {
        return Decision::Nothing;
    }
    let since = last_notify_ms.map_or(i64::MAX, |t| now_ms.saturating_sub(t));
    if since > policy.send_interval.saturating_mul(1000) {
        Decision::Open
    } else {
        Decision::Nothing
    }
}

/// The incident and notification state of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupState {
    /// Incident id, empty when none is open (ids are never empty).
    pub incident_id: String,
    /// Incident start (ms), 0 when none is open.
    pub incident_start: i64,
    /// Last open notification per notifier (index into the notifier list).
    pub last_notify: HashMap<usize, i64>,
}

/// One notification to send: which notifier, what kind, with which incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Send {
    /// Index of the notifier.
    pub notifier: usize,
    /// Open or close.
    pub kind: NotificationKind,
    /// Incident id at the time.
    pub id: String,
    /// Incident start at the time (ms).
    pub start_ms: i64,
}

/// Applies one evaluation of a group (§7.1): NOTFOUND is ignored; an incident opens when the
/// status goes above OK (`new_id` gives its id); every notifier whose filter accepts the group
/// decides; the incident clears when the status is OK.
pub fn on_evaluation(
    state: &mut GroupState,
    policies: &[&Policy],
    group: &str,
    status: Status,
    now_ms: i64,
    new_id: impl FnOnce() -> String,
) -> Vec<Send> {
    let mut out = Vec::new();
    if status == Status::NotFound {
        return out;
    }
    if state.incident_id.is_empty() && status > Status::Ok {
        state.incident_id = new_id();
        state.incident_start = now_ms;
    }
    for (i, policy) in policies.iter().enumerate() {
        if !policy.filter.accepts(group) {
            continue;
        }
        let last = state.last_notify.get(&i).copied();
        let incident_open = !state.incident_id.is_empty();
        let kind = match decide(policy, now_ms, incident_open, status, last) {
            Decision::Nothing => continue,
            Decision::Open => {
                state.last_notify.insert(i, now_ms);
                NotificationKind::Open
            }
            Decision::Close => {
                state.last_notify.remove(&i);
                NotificationKind::Close
            }
        };
        out.push(Send {
            notifier: i,
            kind,
            id: state.incident_id.clone(),
            start_ms: state.incident_start,
        });
    }
    if status == Status::Ok {
        state.incident_id.clear();
        state.incident_start = 0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    fn policy(threshold: i32, send_once: bool, send_close: bool) -> Policy {
        Policy {
            interval: 60,
            send_interval: 60,
            threshold,
            send_once,
            send_close,
            filter: GroupFilter::default(),
        }
    }

    #[test]
    fn decide_row_by_row() {
        let now = 1_000_000;
        let recent = Some(now - 30_000); // within send-interval
        let old = Some(now - 61_000); // beyond it
        type Row = (i32, bool, bool, bool, Status, Option<i64>, Decision);
        #[rustfmt::skip]
        let rows: &[Row] = &[
            // threshold, send_once, send_close, incident, status, last_notify => decision
            // Rule 1: close, whatever the threshold and last notification.
            (2, false, true,  true,  Ok,    None,   Decision::Close),
            (3, false, true,  true,  Ok,    recent, Decision::Close),
            (2, true,  true,  true,  Ok,    old,    Decision::Close),
            // No send-close: an incident back to OK sends nothing (below threshold 2).
            (2, false, false, true,  Ok,    None,   Decision::Nothing),
            // Rule 2: below threshold.
            (2, false, false, false, Ok,    None,   Decision::Nothing),
            (3, false, false, true,  Warn,  None,   Decision::Nothing),
            // Threshold 1 notifies healthy groups too (Burrow's example config does this).
            (1, false, false, false, Ok,    None,   Decision::Open),
            (1, false, true,  false, Ok,    None,   Decision::Open),
            // Rule 3: send-once after a notification.
            (2, true,  false, true,  Warn,  old,    Decision::Nothing),
            (2, true,  false, true,  Error, None,   Decision::Open),
            // Rule 4: send-interval, strictly greater.
            (2, false, false, true,  Warn,  None,   Decision::Open),
            (2, false, false, true,  Warn,  recent, Decision::Nothing),
            (2, false, false, true,  Error, old,    Decision::Open),
            (2, false, false, true,  Warn,  Some(now - 60_000), Decision::Nothing),
            (3, false, false, true,  Error, None,   Decision::Open),
        ];
        for (i, &(threshold, once, close, incident, status, last, want)) in rows.iter().enumerate()
        {
            let p = policy(threshold, once, close);
            assert_eq!(decide(&p, now, incident, status, last), want, "row {i}");
        }
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("id-{n}")
        }
    }

    #[test]
    fn incident_lifecycle_with_close() {
        let p = policy(2, false, true);
        let ps = [&p];
        let mut s = GroupState::default();
        let mut next = ids();
        // OK with no incident: nothing.
        assert!(on_evaluation(&mut s, &ps, "g", Ok, 0, &mut next).is_empty());
        // WARN opens incident id-1 and notifies.
        let out = on_evaluation(&mut s, &ps, "g", Warn, 10_000, &mut next);
        assert_eq!(
            out,
            [Send {
                notifier: 0,
                kind: NotificationKind::Open,
                id: "id-1".into(),
                start_ms: 10_000
            }]
        );
        // ERR 30 s later: same incident, within send-interval: nothing.
        assert!(on_evaluation(&mut s, &ps, "g", Error, 40_000, &mut next).is_empty());
        // 61 s after the first: repeat, same id and start.
        let out = on_evaluation(&mut s, &ps, "g", Error, 71_001, &mut next);
        assert_eq!(out[0].id, "id-1");
        assert_eq!(out[0].start_ms, 10_000);
        // NOTFOUND is ignored entirely.
        assert!(on_evaluation(&mut s, &ps, "g", NotFound, 80_000, &mut next).is_empty());
        assert_eq!(s.incident_id, "id-1");
        // OK closes with the incident's id, then clears it.
        let out = on_evaluation(&mut s, &ps, "g", Ok, 90_000, &mut next);
        assert_eq!(out[0].kind, NotificationKind::Close);
        assert_eq!((out[0].id.as_str(), out[0].start_ms), ("id-1", 10_000));
        assert_eq!(s, GroupState::default());
        // A new problem is a new incident, notified at once (last_notify was reset by close).
        let out = on_evaluation(&mut s, &ps, "g", Warn, 95_000, &mut next);
        assert_eq!(
            (out[0].id.as_str(), out[0].kind),
            ("id-2", NotificationKind::Open)
        );
    }

    #[test]
    fn send_once_without_close_notifies_once_per_process() {
        // Decision 14: kept as Burrow does it.
        let p = policy(2, true, false);
        let ps = [&p];
        let mut s = GroupState::default();
        let mut next = ids();
        assert_eq!(on_evaluation(&mut s, &ps, "g", Warn, 0, &mut next).len(), 1);
        assert!(on_evaluation(&mut s, &ps, "g", Ok, 100_000, &mut next).is_empty());
        assert!(on_evaluation(&mut s, &ps, "g", Warn, 200_000, &mut next).is_empty());
        // With send-close, the close resets it.
        let p = policy(2, true, true);
        let ps = [&p];
        let mut s = GroupState::default();
        assert_eq!(on_evaluation(&mut s, &ps, "g", Warn, 0, &mut next).len(), 1);
        assert_eq!(
            on_evaluation(&mut s, &ps, "g", Ok, 100_000, &mut next).len(),
            1
        );
        assert_eq!(
            on_evaluation(&mut s, &ps, "g", Warn, 200_000, &mut next).len(),
            1
        );
    }

    #[test]
    fn threshold_one_sends_for_ok_groups_without_an_incident() {
        let p = policy(1, false, false);
        let mut s = GroupState::default();
        let out = on_evaluation(&mut s, &[&p], "g", Ok, 0, ids());
        assert_eq!((out[0].id.as_str(), out[0].start_ms), ("", 0));
    }

    #[test]
    fn filters_are_per_notifier_and_state_is_per_notifier() {
        let mut a = policy(2, false, true);
        a.filter = GroupFilter::new("^billing-", "", "notifier.a").unwrap_or_default();
        let mut b = policy(3, false, true);
        b.filter = GroupFilter::new("", "-test$", "notifier.b").unwrap_or_default();
        let ps = [&a, &b];
        let mut next = ids();
        let mut s = GroupState::default();
        let out = on_evaluation(&mut s, &ps, "billing-x", Warn, 0, &mut next);
        assert_eq!(out.iter().map(|o| o.notifier).collect::<Vec<_>>(), [0]);
        let out = on_evaluation(&mut s, &ps, "billing-x", Error, 61_000, &mut next);
        assert_eq!(out.iter().map(|o| o.notifier).collect::<Vec<_>>(), [0, 1]);
        // Both close.
        let out = on_evaluation(&mut s, &ps, "billing-x", Ok, 70_000, &mut next);
        assert_eq!(out.len(), 2);
        let mut s = GroupState::default();
        assert!(on_evaluation(&mut s, &ps, "orders-test", Error, 0, &mut next).is_empty());
        assert!(GroupFilter::new("(", "", "notifier.x")
            .err()
            .is_some_and(|e| e.to_string().starts_with("notifier.x.group-allowlist")));
    }
}
