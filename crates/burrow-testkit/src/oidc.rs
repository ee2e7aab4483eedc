//! A small OAuth 2 / OIDC token endpoint (`fronts/oidc.py`, PyJWT): the client credentials
//! grant with a client secret or a client assertion (`private_key_jwt`), RS256 JWTs with a
//! chosen audience and lifetime, its public key in a file for a SASL front to verify them with.
//! Killed on drop; `stop` and `start_again` take it down and up on the same port with the same
//! key file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};

use crate::service;

/// What the endpoint was started with.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The client id it accepts.
    pub client_id: String,
    /// The client secret it accepts.
    pub client_secret: String,
    /// The `aud` of its tokens.
    pub audience: String,
    /// Seconds its tokens live.
    pub lifetime_s: u64,
    /// The scope it requires (empty: any).
    pub scope: String,
}

/// A running token endpoint.
pub struct OidcServer {
    port: u16,
    key: PathBuf,
    settings: OidcSettings,
    child: Option<Child>,
    said: Arc<Mutex<Vec<String>>>,
}

impl OidcServer {
    /// Starts an endpoint on a free port writing its public key into `dir`; `None` without the
    /// test Python.
    pub fn start(dir: &Path, settings: OidcSettings) -> Option<OidcServer> {
        std::fs::create_dir_all(dir).unwrap();
        let mut s = OidcServer {
            port: crate::free_port(),
            key: dir.join("oidc-public.pem"),
            settings,
            child: None,
            said: Arc::new(Mutex::new(Vec::new())),
        };
        s.start_again()?;
        Some(s)
    }

    /// Starts it again after [`Self::stop`] (a new signing key: tokens issued before no longer
    /// verify, as after a key rotation).
    pub fn start_again(&mut self) -> Option<()> {
        let python = service("BURROW_TEST_PYTHON")?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fronts/oidc.py");
        let st = &self.settings;
        let mut cmd = Command::new(python);
        cmd.arg(script)
            .arg(self.port.to_string())
            .arg(&self.key)
            .args([&st.client_id, &st.client_secret, &st.audience])
            .arg(st.lifetime_s.to_string())
            .arg(&st.scope);
        let child = crate::script::start(&mut cmd, "token endpoint", self.said.clone());
        self.child = Some(child);
        Some(())
    }

    /// Takes it down (connections to it are refused).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The token endpoint's URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The file holding the public key of its tokens (PEM).
    pub fn public_key(&self) -> &Path {
        &self.key
    }

    /// A file it wrote for the client beside the public key: the private keys whose public
    /// halves it knows for `private_key_jwt` (`client-rsa.pem`, `client-ec.pem`), one it does
    /// not know (`stranger.pem`), and an assertion it made (`client-assertion.jwt`).
    pub fn client_file(&self, name: &str) -> PathBuf {
        self.key.with_file_name(name)
    }

    /// How many tokens it issued.
    pub fn issued(&self) -> usize {
        self.said
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("issued"))
            .count()
    }

    /// Everything it said.
    pub fn said(&self) -> Vec<String> {
        self.said.lock().unwrap().clone()
    }
}

impl Drop for OidcServer {
    fn drop(&mut self) {
        self.stop();
    }
}
