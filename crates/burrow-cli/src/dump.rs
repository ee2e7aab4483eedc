//! `dump-offsets`: prints every record of `__consumer_offsets` (or another offsets topic) as one
//! JSON line, decoded with burrow-kafka's codec: the operator's view of what the group
//! coordinator wrote.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use burrow_kafka::offsets::{self, OffsetsRecord};
use burrow_kafka::{
    ClientConfig, FetchOptions, FetchedRecord, IsolationLevel, KafkaClient, LogPosition, OffsetSpec,
};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// Arguments of `dump-offsets`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bootstrap brokers, `host:port[,host:port…]`.
    #[arg(long, value_delimiter = ',', required = true)]
    bootstrap: Vec<String>,
    /// The topic to read.
    #[arg(long, default_value = "__consumer_offsets")]
    topic: String,
    /// Start at the oldest record of each partition (default: only new records).
    #[arg(long)]
    from_beginning: bool,
    /// Read only this partition (repeatable; default: every partition).
    #[arg(long)]
    partition: Vec<i32>,
    /// Stop when every partition reaches the end offset it had at start (default: follow).
    #[arg(long)]
    exit_at_end: bool,
    /// Read only committed transactions (what Burrow's consumer takes).
    #[arg(long)]
    read_committed: bool,
}

/// What a partition reader sends to the printer.
enum Line {
    Record(i32, FetchedRecord),
    Failed(i32, String),
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(dump(args))
}

async fn dump(args: &Args) -> anyhow::Result<ExitCode> {
    let client = KafkaClient::connect(&args.bootstrap, ClientConfig::default())
        .await
        .with_context(|| format!("connecting to {}", args.bootstrap.join(",")))?;
    let md = client.metadata();
    let Some(topic) = md.topics.get(&args.topic) else {
        bail!(
            "topic {:?} does not exist on {}",
            args.topic,
            args.bootstrap.join(",")
        );
    };
    let partitions: Vec<i32> = if args.partition.is_empty() {
        topic.partitions.keys().copied().collect()
    } else {
        for p in &args.partition {
            if !topic.partitions.contains_key(p) {
                bail!(
                    "topic {:?} has no partition {p} (it has {})",
                    args.topic,
                    topic.partitions.len()
                );
            }
        }
        args.partition.clone()
    };
    let isolation = if args.read_committed {
        IsolationLevel::ReadCommitted
    } else {
        IsolationLevel::ReadUncommitted
    };
    let tps: Vec<(String, i32)> = partitions
        .iter()
        .map(|p| (args.topic.clone(), *p))
        .collect();
    let ends = offsets_map(&client, &tps, OffsetSpec::Latest, isolation).await?;
    let starts = if args.from_beginning {
        offsets_map(&client, &tps, OffsetSpec::Earliest, isolation).await?
    } else {
        ends.clone()
    };

    let (tx, mut rx) = mpsc::channel::<Line>(4096);
    let mut tasks = tokio::task::JoinSet::new();
    for p in partitions {
        let (client, tx, topic) = (client.clone(), tx.clone(), args.topic.clone());
        let (mut offset, end) = (starts[&p], ends[&p]);
        let exit_at_end = args.exit_at_end;
        tasks.spawn(async move {
            let opts = FetchOptions {
                isolation,
                ..FetchOptions::default()
            };
            let mut failures = 0u32;
            let mut checked: Option<Instant> = None;
            loop {
                if exit_at_end && offset >= end {
                    return;
                }
                match client.fetch(&topic, p, offset, opts).await {
                    Ok(r) => {
                        if failures >= GIVE_UP_AFTER {
                            eprintln!("burrow-cli: partition {p}: fetching again");
                        }
                        failures = 0;
                        for rec in r.read.records {
                            if tx.send(Line::Record(p, rec)).await.is_err() {
                                return;
                            }
                        }
                        match r.read.next_offset {
                            Some(n) => offset = n,
                            // Nothing complete at this offset: the end of the log, or compacted.
                            None if offset < r.high_watermark && exit_at_end => return,
                            // Following past what the broker says is the end: check (now and
                            // then) that the log did not go backwards under the position.
                            None if r.high_watermark >= 0
                                && offset > r.high_watermark
                                && checked.is_none_or(|t| t.elapsed() >= POSITION_CHECK) =>
                            {
                                checked = Some(Instant::now());
                                if let Some(start) =
                                    log_start_if_outside(&client, &topic, p, offset).await
                                {
                                    offset = start;
                                }
                            }
                            None => {}
                        }
                    }
                    Err(e) if e.is_offset_out_of_range() => {
                        match log_start_if_outside(&client, &topic, p, offset).await {
                            Some(start) => offset = start,
                            None => tokio::time::sleep(Duration::from_millis(500)).await,
                        }
                    }
                    Err(e) => {
                        failures += 1;
                        // Reading to the end gives up after a few failures; following waits
                        // for the broker (a restart, a recreated topic), saying so once.
                        if failures >= GIVE_UP_AFTER {
                            if exit_at_end {
                                let _ = tx.send(Line::Failed(p, e.to_string())).await;
                                return;
                            }
                            if failures == GIVE_UP_AFTER {
                                eprintln!("burrow-cli: partition {p}: fetching fails ({e}); retrying until it works");
                            }
                        }
                        let backoff = 200 * u64::from(failures.min(25));
                        tokio::time::sleep(Duration::from_millis(backoff)).await;
                    }
                }
            }
        });
    }
    drop(tx);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut failed = false;
    loop {
        let line = tokio::select! {
            l = rx.recv() => l,
            _ = tokio::signal::ctrl_c() => None,
        };
        let Some(line) = line else { break };
        match line {
            Line::Record(p, rec) => {
                let v = record_json(p, &rec, &mut counts);
                if writeln!(out, "{v}").is_err() {
                    break; // stdout closed (e.g. piped into head)
                }
            }
            Line::Failed(p, e) => {
                eprintln!("burrow-cli: partition {p}: giving up after repeated errors: {e}");
                failed = true;
            }
        }
        if rx.is_empty() {
            let _ = out.flush();
        }
    }
    let _ = out.flush();
    tasks.abort_all();
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!(
        "burrow-cli: dump-offsets: {}",
        if summary.is_empty() {
            "no records".into()
        } else {
            summary.join(" ")
        }
    );
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Failed fetches in a row after which reading to the end gives up (following never does).
const GIVE_UP_AFTER: u32 = 5;

/// How often a follower waiting past the broker's reported end checks its position.
const POSITION_CHECK: Duration = Duration::from_secs(10);

/// The log start to go on from when `offset` is outside the partition's log (said on stderr
/// with the bounds): before its start (retention), or past its real end (the log went
/// backwards: a replaced broker, a recreated topic).
async fn log_start_if_outside(
    client: &KafkaClient,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Option<i64> {
    match client.check_position(topic, partition, offset).await.ok()? {
        LogPosition::Inside => None,
        LogPosition::BeforeStart { log_start } => {
            eprintln!("burrow-cli: partition {partition}: offset {offset} is before the log start {log_start} (retention); going on from the log start");
            Some(log_start)
        }
        LogPosition::PastEnd { log_start, log_end } => {
            eprintln!("burrow-cli: partition {partition}: offset {offset} is past the end of the log ({log_end}): the log went backwards; reading again from the log start {log_start}");
            Some(log_start)
        }
    }
}

async fn offsets_map(
    client: &KafkaClient,
    tps: &[(String, i32)],
    spec: OffsetSpec,
    isolation: IsolationLevel,
) -> anyhow::Result<BTreeMap<i32, i64>> {
    let mut out = BTreeMap::new();
    for o in client.list_offsets(tps, spec, isolation).await {
        let v = o
            .result
            .with_context(|| format!("listing offsets of {}/{}", o.topic, o.partition))?;
        out.insert(o.partition, v);
    }
    Ok(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One record as a JSON object; counts record types and decode errors.
fn record_json(partition: i32, rec: &FetchedRecord, counts: &mut BTreeMap<String, u64>) -> Value {
    let mut v = json!({ "partition": partition, "offset": rec.offset, "timestamp": rec.timestamp });
    let Some(key) = rec.key.as_deref() else {
        *counts.entry("errors".into()).or_default() += 1;
        v["error"] = json!("record has no key");
        return v;
    };
    match offsets::decode_record(key, rec.value.as_deref()) {
        Ok(decoded) => {
            let ty = decoded.record_type().name();
            *counts.entry(ty.to_string()).or_default() += 1;
            v["type"] = json!(ty);
            match decoded {
                OffsetsRecord::OffsetCommit { key, value } => {
                    v["key"] = json!(key);
                    v["value"] = json!(value);
                }
                OffsetsRecord::GroupMetadata { group, value } => {
                    v["key"] = json!({ "group": group });
                    v["value"] = match value {
                        None => Value::Null,
                        Some(g) => {
                            let mut gv = json!(g);
                            for (i, m) in g.members.iter().enumerate() {
                                gv["members"][i]["assignment"] =
                                    match offsets::decode_assignment(m.assignment) {
                                        Ok(a) => json!(a.partitions),
                                        Err(e) => json!({ "error": e.to_string() }),
                                    };
                                gv["members"][i]["subscription"] =
                                    match offsets::decode_subscription(m.subscription) {
                                        Ok(s) => json!(s.topics),
                                        Err(e) => json!({ "error": e.to_string() }),
                                    };
                            }
                            gv
                        }
                    };
                }
                OffsetsRecord::ConsumerGroupMember { key, value } => {
                    v["key"] = json!(key);
                    v["value"] = json!(value);
                }
                OffsetsRecord::ConsumerGroupAssignment { key, value } => {
                    v["key"] = json!(key);
                    v["value"] = json!(value);
                }
                OffsetsRecord::Coordinator {
                    group, tombstone, ..
                } => {
                    v["key"] = json!({ "group": group });
                    v["tombstone"] = json!(tombstone);
                }
                _ => {}
            }
        }
        Err(e) => {
            *counts.entry("errors".into()).or_default() += 1;
            v["error"] = json!(e.to_string());
            v["key_hex"] = json!(hex(key));
        }
    }
    v
}
