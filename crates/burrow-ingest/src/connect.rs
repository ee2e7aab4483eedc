//! Connecting to a cluster that may not be up yet.

/// Connects to `servers`, retrying with backoff (0.5 s doubling up to 30 s) while no broker
/// answers: a monitor comes up before the cluster it watches. `module` and `name` label the log;
/// each failure is told to `health` when given.
pub(crate) async fn connect_retrying(
    module: &str,
    name: &str,
    servers: &[String],
    client: &burrow_kafka::ClientConfig,
    health: Option<&crate::health::Health>,
) -> burrow_kafka::KafkaClient {
    let mut delay = std::time::Duration::from_millis(500);
    loop {
        match burrow_kafka::KafkaClient::connect(servers, client.clone()).await {
            Ok(c) => {
                tracing::info!(module, name, "connected to {}", servers.join(","));
                return c;
            }
            Err(e) => {
                if let Some(h) = health {
                    h.failed(burrow_core::now_ms(), format!("connect: {e}"));
                }
                tracing::warn!(module, name, error = %e, "cannot connect; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(30));
            }
        }
    }
}
