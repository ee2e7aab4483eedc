//! The command line as Burrow's users type it: Go's flag syntax (`-config-dir DIR`,
//! `-config-dir=DIR`, as in their unit files) beside clap's (`--config-dir DIR`), and the
//! executable called `burrow` (a symlink to `burrow-cli`) behaving as Burrow's: `burrow
//! [--config-dir DIR]` is `burrow-cli serve --config-dir DIR`, the directory `.` by default.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use clap::CommandFactory;

/// The name that makes the executable behave as Burrow's.
pub const BURROW_NAME: &str = "burrow";

/// The arguments clap parses: for `burrow`, `serve` with Burrow's default directory; Go's
/// single-dash long flags with a second dash.
pub fn command_line(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.is_empty() {
        args.push(OsString::from("burrow-cli"));
    }
    if invoked_as_burrow(&args[0]) {
        args = burrow_command_line(args);
    }
    let Some(sub) = args.get(1).and_then(|a| a.to_str()).map(str::to_string) else {
        return args;
    };
    let longs = long_flags(&sub);
    args.into_iter()
        .enumerate()
        .map(|(i, a)| if i >= 2 { go_flag(a, &longs) } else { a })
        .collect()
}

fn invoked_as_burrow(argv0: &OsStr) -> bool {
    Path::new(argv0)
        .file_name()
        .is_some_and(|n| n == OsStr::new(BURROW_NAME))
}

/// `burrow ARGS` → `burrow serve ARGS`, with `--config-dir .` unless a file or directory is
/// named (Burrow's default: the working directory, whose `burrow.toml` must exist).
fn burrow_command_line(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = vec![args[0].clone(), OsString::from("serve")];
    let rest = &args[1..];
    let names_config = rest.iter().any(|a| {
        let a = a.to_string_lossy();
        let flag = a.trim_start_matches('-');
        a.starts_with('-')
            && (flag == "c"
                || ["config-dir", "config"]
                    .iter()
                    .any(|f| flag == *f || flag.starts_with(&format!("{f}="))))
    });
    if !names_config && !rest.iter().any(|a| is_help(a)) {
        out.push(OsString::from("--config-dir"));
        out.push(OsString::from("."));
    }
    out.extend(rest.iter().cloned());
    out
}

fn is_help(a: &OsStr) -> bool {
    matches!(a.to_str(), Some("-h" | "-help" | "--help"))
}

/// The long flag names of subcommand `sub`.
fn long_flags(sub: &str) -> Vec<String> {
    let mut cli = crate::Cli::command();
    let Some(cmd) = cli.find_subcommand_mut(sub) else {
        return Vec::new();
    };
    let mut longs: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    longs.push("help".into());
    longs
}

/// `-name` or `-name=value` for a long flag `name` → `--name…` (Go's flag package takes one
/// dash or two).
fn go_flag(arg: OsString, longs: &[String]) -> OsString {
    let Some(text) = arg.to_str() else { return arg };
    let Some(rest) = text.strip_prefix('-') else {
        return arg;
    };
    if rest.starts_with('-') || rest.len() < 2 {
        return arg;
    }
    let name = rest.split_once('=').map_or(rest, |(n, _)| n);
    if longs.iter().any(|l| l == name) {
        OsString::from(format!("-{text}"))
    } else {
        arg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&str]) -> Vec<String> {
        command_line(args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn go_style_flags_get_a_second_dash() {
        assert_eq!(
            line(&["burrow-cli", "serve", "-config-dir", "/etc/burrow"]),
            ["burrow-cli", "serve", "--config-dir", "/etc/burrow"]
        );
        assert_eq!(
            line(&[
                "burrow-cli",
                "serve",
                "-config-dir=/etc/burrow",
                "-check-config"
            ]),
            [
                "burrow-cli",
                "serve",
                "--config-dir=/etc/burrow",
                "--check-config"
            ]
        );
        // Short flags and values are left alone.
        assert_eq!(
            line(&["burrow-cli", "serve", "-c", "-x.toml"]),
            ["burrow-cli", "serve", "-c", "-x.toml"]
        );
    }

    #[test]
    fn burrow_is_serve_with_the_working_directory() {
        assert_eq!(
            line(&["/usr/bin/burrow"]),
            ["/usr/bin/burrow", "serve", "--config-dir", "."]
        );
        assert_eq!(
            line(&["burrow", "-config-dir", "/etc/burrow"]),
            ["burrow", "serve", "--config-dir", "/etc/burrow"]
        );
        assert_eq!(
            line(&["burrow", "--config-dir=/etc/b"]),
            ["burrow", "serve", "--config-dir=/etc/b"]
        );
        assert_eq!(line(&["burrow", "-help"]), ["burrow", "serve", "--help"]);
    }
}
