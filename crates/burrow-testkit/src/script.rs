//! A test server written in Python (`fronts/*.py`): started, its "listening" line awaited, then
//! every line it prints kept for the test to read.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// Spawns `cmd`, waits for its first line, which must start with "listening" (else a panic
/// naming `what`), and appends each later line to `said`.
pub(crate) fn start(cmd: &mut Command, what: &str, said: Arc<Mutex<Vec<String>>>) -> Child {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(
        first.starts_with("listening"),
        "the {what} did not start: {first:?}"
    );
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            said.lock().unwrap().push(line);
        }
    });
    child
}
