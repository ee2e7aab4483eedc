//! A SASL front for a test broker (`fronts/sasl_front.py`): answers SaslHandshake and
//! SaslAuthenticate itself, verifying credentials with a library burrow-rs did not write
//! (botocore for MSK IAM, scramp for SCRAM; PLAIN is compared plainly), then passes everything
//! to the broker behind it. Killed on drop.

use std::process::{Child, Command};
use std::sync::{Arc, Mutex};

use crate::service;

/// A running front.
pub struct SaslFront {
    port: u16,
    child: Child,
    said: Arc<Mutex<Vec<String>>>,
}

impl SaslFront {
    /// Starts a front on `port` for `upstream` with `mechanism` (`msk-iam`, `plain`,
    /// `scram-sha-256`, `scram-sha-512`, or a `-lie` SCRAM that cannot prove the password) and
    /// its arguments (see the script),
    /// with TLS when `tls` names a certificate and key. `None` without the test Python.
    pub fn start(
        port: u16,
        upstream: &str,
        mechanism: &str,
        args: &[&str],
        tls: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Option<SaslFront> {
        let python = service("BURROW_TEST_PYTHON")?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fronts/sasl_front.py");
        let mut cmd = Command::new(python);
        cmd.arg(script)
            .arg(port.to_string())
            .arg(upstream)
            .arg(mechanism)
            .args(args);
        if let Some((cert, key)) = tls {
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        let said = Arc::new(Mutex::new(Vec::new()));
        let child = crate::script::start(&mut cmd, "SASL front", said.clone());
        Some(SaslFront { port, child, said })
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What it said after starting: `auth ok`, `auth failed: …`.
    pub fn said(&self) -> Vec<String> {
        self.said.lock().unwrap().clone()
    }
}

impl Drop for SaslFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
