//! `burrow-cli check`: a one-shot verdict for one consumer group, for scripts and monitoring
//! agents. Exit codes follow the monitoring-plugin convention: 0 OK, 1 WARN, 2 ERR, 3 unknown.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use burrow_core::{ConsumerGroupStatus, PartitionStatus, Status};
use burrow_ingest::check::{
    check_group, CheckReport, CheckSettings, CheckSource, HistoricLag, Progress,
};
use burrow_ingest::time_lag::{need, Needed, TimeLag};
use burrow_kafka::{ClientConfig, KafkaClient};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The consumer group.
    #[arg(long)]
    group: String,
    /// Bootstrap brokers, `host:port[,host:port…]` (overrides the cluster's `servers` of
    /// `--config`).
    #[arg(long, value_delimiter = ',')]
    bootstrap: Vec<String>,
    /// Burrow configuration: the cluster's servers and client profile, its consumer's offsets
    /// topic, and the `[storage]` and `[evaluator]` rules apply.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Cluster name: a `[cluster.<name>]` of `--config`, the cluster of `--server`, or the name
    /// printed (default `local`, or the only cluster of the config or server).
    #[arg(long)]
    cluster: Option<String>,
    /// Seconds to sample the brokers' end offsets (0 = one sample).
    #[arg(long, default_value_t = 5.0)]
    window: f64,
    /// Print Burrow's status object (JSON) instead of a table.
    #[arg(long)]
    json: bool,
    /// Ask a running `burrow-cli serve` (or Burrow) at this URL instead of the cluster.
    #[arg(long, conflicts_with_all = ["bootstrap", "config", "window", "max_scan"])]
    server: Option<String>,
    /// The most records of the group's `__consumer_offsets` partition to read for its history.
    #[arg(long, default_value_t = 5_000_000)]
    max_scan: u64,
}

/// A verdict could not be reached: exit 3 with this reason.
#[derive(Debug)]
struct Unknown(String);

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unknown {}

pub fn run(args: &Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let started = Instant::now();
    let outcome = match &args.server {
        Some(url) => rt.block_on(ask_server(url, args)).map(|s| (s, None, None)),
        None => rt
            .block_on(check_cluster(args))
            .map(|(s, r, b)| (s, Some(r), Some(b))),
    };
    let (status, report, behind) = match outcome {
        Ok(v) => v,
        Err(e) => {
            // One line: the reason, with its causes.
            eprintln!("burrow-cli check: UNKNOWN: {e:#}");
            return Ok(ExitCode::from(crate::EXIT_UNKNOWN));
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &status)?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &status, behind.as_ref())?;
        if let Some(r) = &report {
            print_basis(&mut out, r, started.elapsed())?;
        }
    }
    out.flush()?;
    let code = match status.status {
        Status::Ok => 0,
        Status::Warn => 1,
        Status::NotFound => {
            let hint = match &report {
                Some(r) if r.scan_truncated => format!(
                    " in the newest {} records of its {} partition {} (raise --max-scan)",
                    r.records_scanned, r.offsets_topic, r.offsets_partition
                ),
                Some(r) => format!(
                    " (no live commits in {} partition {})",
                    r.offsets_topic, r.offsets_partition
                ),
                None => String::new(),
            };
            eprintln!(
                "burrow-cli check: UNKNOWN: group {:?} not found on cluster {:?}{hint}",
                status.group, status.cluster
            );
            crate::EXIT_UNKNOWN
        }
        _ => 2,
    };
    Ok(ExitCode::from(code))
}

/// Reads history and samples offsets from the cluster itself.
async fn check_cluster(args: &Args) -> Result<(ConsumerGroupStatus, CheckReport, TimeLag)> {
    if !args.window.is_finite() || args.window < 0.0 || args.window > 86_400.0 {
        bail!(Unknown(format!(
            "--window: {} is not a number of seconds between 0 and 86400",
            args.window
        )));
    }
    let config = crate::load_config(args.config.as_ref())?;
    let cluster = match (&args.cluster, args.config.is_some()) {
        (Some(c), _) => c.clone(),
        (None, true) if config.cluster_modules.len() == 1 => config.cluster_modules[0].0.clone(),
        (None, true) if !config.cluster_modules.is_empty() => bail!(
            "the config has {} clusters; name one with --cluster",
            config.cluster_modules.len()
        ),
        _ => "local".to_string(),
    };
    let module = config.cluster_modules.iter().find(|(n, _)| *n == cluster);
    if args.config.is_some() && module.is_none() && args.bootstrap.is_empty() {
        bail!("--cluster: the config has no [cluster.{cluster}] section");
    }
    let servers = if args.bootstrap.is_empty() {
        module.map(|(_, m)| m.servers.clone()).unwrap_or_default()
    } else {
        args.bootstrap.clone()
    };
    if servers.is_empty() {
        bail!("no brokers: give --bootstrap HOST:PORT, or --config with a cluster");
    }
    let client_config = match module {
        Some((name, m)) => {
            config.client_config(&format!("cluster.{name}.client-profile"), &m.client_profile)?
        }
        None => ClientConfig::default(),
    };
    let offsets_topic = config
        .consumers
        .iter()
        .find(|(_, c)| c.cluster == cluster && c.class_name == "kafka")
        .map_or("__consumer_offsets".to_string(), |(_, c)| {
            c.offsets_topic.clone()
        });
    let settings = CheckSettings {
        cluster,
        group: args.group.clone(),
        offsets_topic,
        window: Duration::from_secs_f64(args.window),
        storage: config.storage.clone(),
        evaluator: config.evaluator.clone(),
        max_scan: args.max_scan,
    };

    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    } else {
        ProgressBar::hidden()
    };
    bar.set_message(format!("connecting to {}", servers.join(",")));
    let client = KafkaClient::connect(&servers, client_config)
        .await
        .with_context(|| format!("cluster {} unreachable", servers.join(",")))?;
    let mut progress = |p: Progress| match p {
        Progress::History { read, total } => bar.set_message(format!(
            "reading the group's commits: {read} of {total} records"
        )),
        Progress::Lookup => bar.set_message("looking up the end offsets at each commit's time"),
        Progress::Sampling { taken, of } => {
            bar.set_message(format!("sampling end offsets: {taken} of {of}"))
        }
    };
    let report = check_group(&client, &settings, &mut progress).await;
    let behind = TimeLag::new();
    if let Ok(r) = &report {
        if !args.json {
            // How long ago the record each lagging partition stands before was written.
            bar.set_message("looking up the timestamps of the records the group stands before");
            let mut needed = Needed::new();
            for p in r.status.partitions.iter().filter(|p| p.current_lag > 0) {
                if let Some(end) = &p.end {
                    need(&mut needed, &p.topic, p.partition, end.offset);
                }
            }
            behind.fetch(&client, &needed).await;
        }
    }
    bar.finish_and_clear();
    let report = report?;
    Ok((report.status.clone(), report, behind))
}

/// Asks a running server: `GET <url>/v3/kafka/<cluster>/consumer/<group>/lag`.
async fn ask_server(url: &str, args: &Args) -> Result<ConsumerGroupStatus> {
    let base = url.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("HTTP client")?;
    let get = |path: String| {
        let http = http.clone();
        async move {
            let resp = http
                .get(&path)
                .send()
                .await
                .with_context(|| format!("server {base} unreachable"))?;
            let code = resp.status();
            let body: Value = resp
                .json()
                .await
                .with_context(|| format!("{path}: HTTP {code}, not a Burrow answer"))?;
            Ok::<_, anyhow::Error>((code, body))
        }
    };
    let cluster = match &args.cluster {
        Some(c) => c.clone(),
        None => {
            let (_, body) = get(format!("{base}/v3/kafka")).await?;
            let clusters: Vec<String> = body
                .get("clusters")
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .ok_or_else(|| anyhow!("{base}/v3/kafka: no cluster list in the answer"))?;
            match clusters.as_slice() {
                [one] => one.clone(),
                _ => bail!(
                    "the server has clusters {}; name one with --cluster",
                    clusters.join(", ")
                ),
            }
        }
    };
    // Group names may hold `/`, `?`, `#` or spaces: each is one percent-encoded segment.
    let mut url = reqwest::Url::parse(base).with_context(|| format!("--server: {base:?}"))?;
    url.path_segments_mut()
        .map_err(|()| anyhow!("--server: {base:?} cannot be a base URL"))?
        .pop_if_empty()
        .extend(["v3", "kafka", &cluster, "consumer", &args.group, "lag"]);
    let path = url.to_string();
    let (code, body) = get(path.clone()).await?;
    match body.get("status") {
        Some(s) if s.is_object() => serde_json::from_value(s.clone())
            .with_context(|| format!("{path}: the status object does not parse")),
        _ => {
            let message = body
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            bail!("{path}: HTTP {code}: {message}")
        }
    }
}

/// The verdict line and one row per partition; with `behind` (read from the cluster), how far
/// behind each partition is in time.
fn print_table(
    out: &mut impl Write,
    s: &ConsumerGroupStatus,
    behind: Option<&TimeLag>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: group {} on cluster {}: total lag {}, {} partitions, complete {}",
        s.status,
        s.group,
        s.cluster,
        s.totallag,
        s.partition_count,
        if s.complete.fract() == 0.0 {
            format!("{}", s.complete as i64)
        } else {
            format!("{}", s.complete)
        },
    )?;
    if s.partitions.is_empty() {
        return Ok(());
    }
    let header = [
        "TOPIC",
        "PARTITION",
        "STATUS",
        "LAG",
        "BEHIND",
        "COMMITTED",
        "COMMITTED-AT",
        "OWNER",
        "CLIENT-ID",
    ];
    let now = burrow_core::now_ms();
    let rows: Vec<[String; 9]> = s.partitions.iter().map(|p| row(p, behind, now)).collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  "));
            }
        }
        l.trim_end().to_string()
    };
    writeln!(out, "{}", line(&header.map(String::from)))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}

fn row(p: &PartitionStatus, behind: Option<&TimeLag>, now_ms: i64) -> [String; 9] {
    let seconds = match (behind, &p.end) {
        (Some(b), Some(end)) => b.seconds(now_ms, &p.topic, p.partition, end.offset, p.current_lag),
        _ => None,
    };
    let (committed, at) = match &p.end {
        Some(e) => (e.offset.to_string(), format_ms(e.timestamp)),
        None => ("-".into(), "-".into()),
    };
    let dash = |s: &str| {
        if s.is_empty() {
            "-".into()
        } else {
            s.to_string()
        }
    };
    [
        p.topic.clone(),
        p.partition.to_string(),
        p.status.to_string(),
        p.current_lag.to_string(),
        seconds.map_or_else(|| "-".into(), format_seconds),
        committed,
        at,
        dash(&p.owner),
        dash(&p.client_id),
    ]
}

/// `0s`, `42s`, `9m05s`, `3h07m`, `2d04h`: a duration in its two largest units.
fn format_seconds(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86400, s % 86400 / 3600),
    }
}

/// `2026-11-25T10:11:12Z` (UTC, seconds) from milliseconds since the epoch.
fn format_ms(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// What the verdict rests on, for the reader of the table.
fn print_basis(out: &mut impl Write, r: &CheckReport, elapsed: Duration) -> std::io::Result<()> {
    if r.source == CheckSource::GroupApis {
        return writeln!(
            out,
            "based on the group APIs (OffsetFetch, DescribeGroups) polled at each of {} end-offset samples: {} does not hold the group's commits here; {:.2} s",
            r.samples,
            r.offsets_topic,
            elapsed.as_secs_f64(),
        );
    }
    let lag = match &r.historic_lag {
        HistoricLag::AtCommitTime => {
            "commit lag against the end offset at each commit's time".into()
        }
        HistoricLag::Current { reason } => {
            format!("commit lag against the current end offset (lookup by time failed: {reason})")
        }
    };
    writeln!(
        out,
        "based on {} records of the group in {} records of {} partition {}{}; {} end-offset samples; {lag}; {:.2} s",
        r.group_records,
        r.records_scanned,
        r.offsets_topic,
        r.offsets_partition,
        if r.scan_truncated { " (scan limit reached)" } else { "" },
        r.samples,
        elapsed.as_secs_f64(),
    )
}

#[cfg(test)]
mod tests {
    use super::format_seconds;

    #[test]
    fn durations_in_their_two_largest_units() {
        for (s, text) in [
            (0.0, "0s"),
            (0.9, "0s"),
            (59.0, "59s"),
            (60.0, "1m00s"),
            (545.0, "9m05s"),
            (3600.0, "1h00m"),
            (11_220.0, "3h07m"),
            (187_200.0, "2d04h"),
            (-5.0, "0s"),
        ] {
            assert_eq!(format_seconds(s), text, "{s}");
        }
    }
}
