//! SASL PLAIN and SCRAM against servers burrow-rs did not write: a SASL front in front of a
//! test broker (`burrow-testkit/fronts/sasl_front.py`) whose SCRAM server side is scramp's
//! (PyPI) and whose PLAIN check is plain. The right password gets through to the broker; a
//! wrong password, a mechanism the server does not offer, and a server whose final SCRAM
//! message does not prove it knows the password are refused with a clear error. A server that
//! ends sessions (`connections.max.reauth.ms`) never sees a request after one ended: the client
//! authenticates a new connection before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use burrow_kafka::{ClientConfig, KafkaClient, SaslConfig, SaslMechanism};
use burrow_testkit::{free_port, BrokerKind, OwnBroker, SaslFront};

const USER: &str = "burrow";
const PASSWORD: &str = "pa55-w0rd:with=odd,chars";

/// A broker of the test's own that advertises the front's port, and the front.
struct Behind {
    front: SaslFront,
    _broker: OwnBroker,
}

fn behind(mechanism: &str) -> Option<Behind> {
    behind_on(mechanism, BrokerKind::TansuSrc)
}

/// [`behind`] on a broker of `kind` (one that advertises the port it is told: both tansu
/// builds; noida-db advertises its own, so clients would pass the front by).
fn behind_on(mechanism: &str, kind: BrokerKind) -> Option<Behind> {
    behind_with(mechanism, kind, &[])
}

/// [`behind_on`] with more arguments for the front (`--session-ms N`).
fn behind_with(mechanism: &str, kind: BrokerKind, options: &[&str]) -> Option<Behind> {
    let port = free_port();
    let broker = OwnBroker::start(kind, Some(port))?;
    let args: Vec<&str> = options.iter().copied().chain([USER, PASSWORD]).collect();
    let front = SaslFront::start(port, &broker.addr(), mechanism, &args, None)?;
    Some(Behind {
        front,
        _broker: broker,
    })
}

fn config(mechanism: SaslMechanism, password: &str) -> ClientConfig {
    ClientConfig {
        sasl: Some(SaslConfig {
            mechanism,
            username: USER.into(),
            password: password.into(),
            handshake: true,
            msk_iam: None,
            oauth: None,
        }),
        dial_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    }
}

/// Whether the front says a line matching `f` within two seconds (it prints after answering).
fn front_says(front: &SaslFront, f: impl Fn(&str) -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        if front.said().iter().any(|l| f(l)) {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn connect(addr: &str, config: ClientConfig) -> Result<KafkaClient, String> {
    KafkaClient::connect(&[addr.to_string()], config)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_and_scram_get_through_with_the_right_password_only() {
    for (name, mechanism, kind) in [
        ("plain", SaslMechanism::Plain, BrokerKind::TansuSrc),
        (
            "scram-sha-256",
            SaslMechanism::ScramSha256,
            BrokerKind::TansuSrc,
        ),
        (
            "scram-sha-512",
            SaslMechanism::ScramSha512,
            BrokerKind::TansuSrc,
        ),
        ("plain", SaslMechanism::Plain, BrokerKind::Tansu),
        (
            "scram-sha-512",
            SaslMechanism::ScramSha512,
            BrokerKind::Tansu,
        ),
    ] {
        let Some(b) = behind_on(name, kind) else {
            return;
        };
        let client = connect(&b.front.addr(), config(mechanism, PASSWORD))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}; the front said {:?}", b.front.said()));
        // Through to the broker: requests after the handshake are the broker's.
        let topic = format!("sasl-{name}-{}", kind.name());
        client.create_topic(&topic, 1, 1).await.unwrap();
        let md = client.refresh_metadata().await.unwrap();
        assert!(md.topics.contains_key(&topic), "{name}");
        assert!(
            b.front.said().iter().all(|l| l == "auth ok"),
            "{name}: {:?}",
            b.front.said()
        );

        let err = connect(&b.front.addr(), config(mechanism, "not-the-password"))
            .await
            .err()
            .unwrap_or_else(|| panic!("{name}: a wrong password was let in"));
        assert!(err.contains("authentication failed"), "{name}: {err}");
        assert!(
            !err.contains("not-the-password"),
            "{name}: the error shows the password: {err}"
        );
        assert!(
            front_says(&b.front, |l| l.starts_with("auth failed")),
            "{name}: {:?}",
            b.front.said()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mechanism_the_server_does_not_offer_is_named() {
    let Some(b) = behind("scram-sha-256") else {
        return;
    };
    let Err(err) = connect(
        &b.front.addr(),
        config(SaslMechanism::ScramSha512, PASSWORD),
    )
    .await
    else {
        panic!("SCRAM-SHA-512 against a SCRAM-SHA-256 server");
    };
    assert!(err.contains("SCRAM-SHA-512"), "{err}");
    assert!(
        err.contains("SCRAM-SHA-256"),
        "the server's mechanisms are named: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_prove_the_password_is_refused() {
    let Some(b) = behind("scram-sha-256-lie") else {
        return;
    };
    let Err(err) = connect(
        &b.front.addr(),
        config(SaslMechanism::ScramSha256, PASSWORD),
    )
    .await
    else {
        panic!("a lying server was trusted");
    };
    // The server accepted the client; the client refuses the server.
    assert!(
        front_says(&b.front, |l| l == "auth ok"),
        "{err}; the front said {:?}",
        b.front.said()
    );
    assert!(err.to_lowercase().contains("signature"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_renewed_before_the_server_ends_them() {
    // Sessions of 1.5 s; the server closes a connection at its first request after the end.
    let Some(b) = behind_with(
        "scram-sha-512",
        BrokerKind::TansuSrc,
        &["--session-ms", "1500"],
    ) else {
        return;
    };
    let client = connect(
        &b.front.addr(),
        config(SaslMechanism::ScramSha512, PASSWORD),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}; the front said {:?}", b.front.said()));
    // Requests without pause over four lifetimes, then one after an idle lifetime: none fails.
    let until = std::time::Instant::now() + Duration::from_secs(6);
    let mut requests = 0;
    while std::time::Instant::now() < until {
        client.refresh_metadata().await.unwrap_or_else(|e| {
            panic!(
                "request {requests}: {e}; the front said {:?}",
                b.front.said()
            )
        });
        requests += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    client
        .refresh_metadata()
        .await
        .unwrap_or_else(|e| panic!("after a pause: {e}; the front said {:?}", b.front.said()));
    assert!(front_says(&b.front, |_| true));
    let said = b.front.said();
    let sessions = said.iter().filter(|l| *l == "auth ok").count();
    assert!(
        sessions >= 5,
        "{requests} requests in {sessions} sessions: {said:?}"
    );
    assert!(
        !said.iter().any(|l| l == "session expired"),
        "a request came after its session ended: {said:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_serves_until_it_ends_while_its_renewal_fails() {
    // Sessions of 6 s, and no connection after the first: every renewal fails.
    let Some(b) = behind_with(
        "plain",
        BrokerKind::TansuSrc,
        &["--session-ms", "6000", "--connections", "1"],
    ) else {
        return;
    };
    let start = std::time::Instant::now();
    let client = connect(&b.front.addr(), config(SaslMechanism::Plain, PASSWORD))
        .await
        .unwrap_or_else(|e| panic!("{e}; the front said {:?}", b.front.said()));
    // Renewal is tried from 5.1-5.7 s on; the session ends 6 s after it began (after `start`).
    let mut requests = 0;
    while start.elapsed() < Duration::from_millis(5800) {
        client.refresh_metadata().await.unwrap_or_else(|e| {
            panic!(
                "request {requests} at {:?}: {e}; the front said {:?}",
                start.elapsed(),
                b.front.said()
            )
        });
        requests += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        front_says(&b.front, |l| l.starts_with("refused: connection")),
        "no renewal was tried: {:?}",
        b.front.said()
    );
}
