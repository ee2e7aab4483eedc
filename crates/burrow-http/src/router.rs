//! What Go Burrow's router (julienschmidt/httprouter 1.3.0, its defaults) does with a request
//! no route takes as it is: per method, a redirect to the path with or without its trailing
//! slash, then to the cleaned, case-fixed path (`/V3//kafka` → `/v3/kafka`), with 301 for GET
//! and 307 otherwise; `OPTIONS` answered with `Allow`; 405 with `Allow` for a path other
//! methods take; else 404. Redirects carry `net/http`'s small HTML body.

use hyper::Method;

/// A route pattern: `/v3/kafka/{cluster}/consumer`.
pub type Pattern = &'static str;

/// The outcome for a request no route took as it is.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// Redirect to this path (301 for GET, 307 otherwise).
    Redirect(String),
    /// `OPTIONS`: the `Allow` header.
    Options(String),
    /// 405 with this `Allow` header.
    NotAllowed(String),
    /// 404.
    NotFound,
}

/// The routes and their methods, as the router's table lists them.
pub trait Routes {
    /// The methods of the route that takes `path` exactly, if one does.
    fn methods_at(&self, path: &str) -> Option<&'static [Method]>;
    /// Every pattern with its methods.
    fn patterns(&self) -> Vec<(Pattern, &'static [Method])>;
}

/// httprouter's order once the exact lookup failed for `method`.
pub fn miss(routes: &impl Routes, method: &Method, path: &str) -> Miss {
    let has_tree = [Method::GET, Method::POST, Method::DELETE].contains(method);
    if has_tree && *method != Method::CONNECT && path != "/" {
        let takes = |p: &str| routes.methods_at(p).is_some_and(|m| m.contains(method));
        let other = match path.strip_suffix('/') {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => format!("{path}/"),
        };
        if takes(&other) {
            return Miss::Redirect(other);
        }
        if let Some(fixed) = fixed_path(routes, method, &clean_path(path)) {
            return Miss::Redirect(fixed);
        }
    }
    let allowed = allowed(routes, method, path);
    match (method == Method::OPTIONS, allowed) {
        (_, None) => Miss::NotFound,
        (true, Some(allow)) => Miss::Options(allow),
        (false, Some(allow)) => Miss::NotAllowed(allow),
    }
}

/// httprouter's `allowed`: the other methods of the route at `path`, with OPTIONS, sorted.
pub fn allowed(routes: &impl Routes, method: &Method, path: &str) -> Option<String> {
    let methods = routes.methods_at(path)?;
    let mut names: Vec<&str> = methods
        .iter()
        .filter(|m| *m != method && **m != Method::OPTIONS)
        .map(Method::as_str)
        .collect();
    if names.is_empty() {
        return None;
    }
    names.push("OPTIONS");
    names.sort_unstable();
    Some(names.join(", "))
}

/// httprouter's `CleanPath`: `path.Clean` that keeps a trailing slash.
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return "/".into();
    }
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut out = format!("/{}", parts.join("/"));
    // A final `.` element leaves a trailing slash; a final `..` does not (httprouter).
    let trailing = p.ends_with('/') || p == "." || p.ends_with("/.");
    if trailing && out != "/" {
        out.push('/');
    }
    out
}

/// httprouter's `findCaseInsensitivePath` with the trailing-slash fix: the path of the route of
/// `method` whose fixed segments equal the request's ignoring case (parameters as requested).
fn fixed_path(routes: &impl Routes, method: &Method, path: &str) -> Option<String> {
    let wanted: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let without_slash: Vec<&str> = match wanted.split_last() {
        Some((&"", rest)) if !rest.is_empty() => rest.to_vec(),
        _ => wanted.clone(),
    };
    routes
        .patterns()
        .into_iter()
        .filter(|(_, methods)| methods.contains(method))
        .find_map(|(pattern, _)| fit(pattern, &wanted).or_else(|| fit(pattern, &without_slash)))
}

/// `segments` fitted to `pattern`: the path with the pattern's fixed segments.
fn fit(pattern: &str, segments: &[&str]) -> Option<String> {
    let fixed: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    if fixed.len() != segments.len() {
        return None;
    }
    let mut out = String::new();
    for (f, s) in fixed.iter().zip(segments) {
        out.push('/');
        if f.starts_with('{') {
            if s.is_empty() {
                return None;
            }
            out.push_str(s);
        } else if f.eq_ignore_ascii_case(s) {
            out.push_str(f);
        } else {
            return None;
        }
    }
    Some(out)
}

/// A path as Go's `url.URL.EscapedPath` writes it into `Location`.
pub fn escape_path(path: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const PATH: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b',')
        .remove(b'/')
        .remove(b':')
        .remove(b';')
        .remove(b'=')
        .remove(b'@');
    utf8_percent_encode(path, PATH).to_string()
}

/// `net/http`'s `Redirect` body for a GET: `<a href="URL">Moved Permanently</a>.` and two
/// newlines (HTML-escaped URL).
pub fn redirect_body(location: &str, status_text: &str) -> String {
    let mut href = String::with_capacity(location.len());
    for c in location.chars() {
        match c {
            '&' => href.push_str("&amp;"),
            '<' => href.push_str("&lt;"),
            '>' => href.push_str("&gt;"),
            '"' => href.push_str("&#34;"),
            '\'' => href.push_str("&#39;"),
            c => href.push(c),
        }
    }
    format!("<a href=\"{href}\">{status_text}</a>.\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Table;
    const GET: &[Method] = &[Method::GET];
    const GET_DELETE: &[Method] = &[Method::GET, Method::DELETE];
    const GET_POST: &[Method] = &[Method::GET, Method::POST];

    impl Routes for Table {
        fn methods_at(&self, path: &str) -> Option<&'static [Method]> {
            self.patterns()
                .into_iter()
                .find(|(p, _)| {
                    fit(
                        p,
                        &path.trim_start_matches('/').split('/').collect::<Vec<_>>(),
                    )
                    .as_deref()
                        == Some(path)
                })
                .map(|(_, m)| m)
        }
        fn patterns(&self) -> Vec<(Pattern, &'static [Method])> {
            vec![
                ("/v3/kafka", GET),
                ("/v3/kafka/{cluster}/consumer/{consumer}", GET_DELETE),
                ("/v3/admin/loglevel", GET_POST),
            ]
        }
    }

    #[test]
    fn trailing_slash_then_fixed_path_per_method() {
        assert_eq!(
            miss(&Table, &Method::GET, "/v3/kafka/"),
            Miss::Redirect("/v3/kafka".into())
        );
        assert_eq!(
            miss(&Table, &Method::GET, "/V3//Kafka/./"),
            Miss::Redirect("/v3/kafka".into())
        );
        assert_eq!(
            miss(&Table, &Method::DELETE, "/V3/KAFKA/Local/CONSUMER/MyGroup"),
            Miss::Redirect("/v3/kafka/Local/consumer/MyGroup".into())
        );
        // The path with a slash exists only for GET: no redirect for DELETE.
        assert_eq!(miss(&Table, &Method::DELETE, "/v3/kafka/"), Miss::NotFound);
        assert_eq!(miss(&Table, &Method::GET, "/v3/nope"), Miss::NotFound);
    }

    #[test]
    fn options_and_405_name_the_methods_sorted() {
        assert_eq!(
            miss(&Table, &Method::OPTIONS, "/v3/admin/loglevel"),
            Miss::Options("GET, OPTIONS, POST".into())
        );
        assert_eq!(
            miss(&Table, &Method::PUT, "/v3/kafka/c/consumer/g"),
            Miss::NotAllowed("DELETE, GET, OPTIONS".into())
        );
        assert_eq!(miss(&Table, &Method::OPTIONS, "/v3/kafka/"), Miss::NotFound);
    }

    #[test]
    fn clean_path_as_httprouter() {
        for (p, want) in [
            ("", "/"),
            ("/", "/"),
            ("//a//b/", "/a/b/"),
            ("/a/./b/../c", "/a/c"),
            ("a/b", "/a/b"),
            ("/..", "/"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/..", "/a"),
        ] {
            assert_eq!(clean_path(p), want, "{p}");
        }
    }

    #[test]
    fn redirect_body_and_location_as_net_http() {
        assert_eq!(
            redirect_body("/v3/kafka?a=1&b=2", "Moved Permanently"),
            "<a href=\"/v3/kafka?a=1&amp;b=2\">Moved Permanently</a>.\n\n"
        );
        assert_eq!(escape_path("/v3/kafka/a b/c!"), "/v3/kafka/a%20b/c%21");
    }
}
