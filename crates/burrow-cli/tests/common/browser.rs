//! A dashboard page in headless Chromium (Debian's `chromium`, `BURROW_TEST_CHROMIUM`), driven
//! over the DevTools protocol: what it logs and requests, what it shows, screenshots.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Emulation, Network, Page};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

use super::service;

/// What a tab saw: console errors and exceptions, every request's URL, bytes transferred.
#[derive(Default)]
pub struct Seen {
    pub errors: Vec<String>,
    pub requests: Vec<String>,
    pub bytes: f64,
}

pub struct Dashboard {
    pub tab: Arc<Tab>,
    pub seen: Arc<Mutex<Seen>>,
    pub origin: String,
}

pub fn browser() -> Option<Browser> {
    let path = service("BURROW_TEST_CHROMIUM")?;
    let args: Vec<&OsStr> = vec![
        OsStr::new("--disable-dev-shm-usage"),
        OsStr::new("--no-first-run"),
        OsStr::new("--disable-extensions"),
    ];
    let options = LaunchOptions::default_builder()
        .path(Some(PathBuf::from(path)))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1280, 900)))
        .idle_browser_timeout(Duration::from_secs(300))
        .args(args)
        .build()
        .unwrap();
    Some(Browser::new(options).unwrap())
}

impl Dashboard {
    pub fn open(browser: &Browser, port: u16) -> Dashboard {
        let tab = browser.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(20));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let s = seen.clone();
        tab.add_event_listener(Arc::new(move |event: &Event| {
            let mut s = s.lock().unwrap();
            match event {
                Event::RuntimeConsoleAPICalled(e) => {
                    let kind = format!("{:?}", e.params.Type);
                    if kind == "Error" || kind == "Warning" {
                        s.errors
                            .push(format!("console {kind}: {:?}", e.params.args));
                    }
                }
                Event::RuntimeExceptionThrown(e) => {
                    s.errors
                        .push(format!("exception: {:?}", e.params.exception_details));
                }
                Event::LogEntryAdded(e) => {
                    let level = format!("{:?}", e.params.entry.level);
                    if level == "Error" || level == "Warning" {
                        s.errors
                            .push(format!("log {level}: {}", e.params.entry.text));
                    }
                }
                Event::NetworkRequestWillBeSent(e) => s.requests.push(e.params.request.url.clone()),
                Event::NetworkLoadingFinished(e) => s.bytes += e.params.encoded_data_length,
                _ => {}
            }
        }))
        .unwrap();
        tab.enable_runtime().unwrap();
        tab.enable_log().unwrap();
        tab.call_method(Network::Enable {
            max_total_buffer_size: None,
            max_resource_buffer_size: None,
            max_post_data_size: None,
            report_direct_socket_traffic: None,
            enable_durable_messages: None,
        })
        .unwrap();
        // Every request is fetched again: the byte budget counts what a first visit transfers.
        tab.call_method(Network::SetCacheDisabled {
            cache_disabled: true,
        })
        .unwrap();
        Dashboard {
            tab,
            seen,
            origin: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Loads `hash` (a dashboard route) afresh and returns the bytes it transferred once
    /// `ready` (a CSS selector) is on the page.
    pub fn visit(&self, hash: &str, ready: &str) -> f64 {
        // From a blank page, so that a new hash is a whole load, not a same-document jump.
        self.tab.navigate_to("about:blank").unwrap();
        self.tab.wait_until_navigated().unwrap();
        let before = self.seen.lock().unwrap().bytes;
        self.tab
            .navigate_to(&format!("{}/ui/{hash}", self.origin))
            .unwrap();
        self.tab.wait_until_navigated().unwrap();
        self.tab.wait_for_element(ready).unwrap();
        // The last response's LoadingFinished can trail the DOM by a moment.
        std::thread::sleep(Duration::from_millis(300));
        self.seen.lock().unwrap().bytes - before
    }

    /// A string from the page.
    pub fn text(&self, expression: &str) -> String {
        let v = self.tab.evaluate(expression, false).unwrap();
        match v.value {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        }
    }

    /// Waits until `expression` is true in the page.
    pub fn until(&self, what: &str, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.text(expression) != "true" {
            if Instant::now() > deadline {
                let state = self.text(
                    "JSON.stringify({hash: location.hash, focus: document.activeElement && document.activeElement.id, q: (document.getElementById('q') || {}).value, count: (document.getElementById('count') || {}).textContent, main: document.getElementById('main').innerText.slice(0, 300)})",
                );
                panic!("{what}: {expression} never true; the page: {state}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn screenshot(&self, name: &str) {
        let png = self
            .tab
            .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        let dir = std::env::var_os("BURROW_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// No console error, no exception, no request to anywhere but the server.
    pub fn assert_clean(&self) {
        let seen = self.seen.lock().unwrap();
        assert!(seen.errors.is_empty(), "console: {:#?}", seen.errors);
        let elsewhere: Vec<&String> = seen
            .requests
            .iter()
            .filter(|u| !u.starts_with(&format!("{}/", self.origin)) && *u != "about:blank")
            .collect();
        assert!(
            elsewhere.is_empty(),
            "requests left the origin: {elsewhere:?}"
        );
        assert!(!seen.requests.is_empty());
    }

    /// From now on the tab is a phone (390 × 844 CSS pixels) that prefers a dark scheme.
    pub fn phone_dark(&self) {
        self.tab
            .call_method(Emulation::SetEmulatedMedia {
                media: None,
                features: Some(vec![Emulation::MediaFeature {
                    name: "prefers-color-scheme".into(),
                    value: "dark".into(),
                }]),
            })
            .unwrap();
        let phone: Emulation::SetDeviceMetricsOverride =
            serde_json::from_value(serde_json::json!({
                "width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true
            }))
            .unwrap();
        self.tab.call_method(phone).unwrap();
    }
}
