//! `burrow-cli`: the command line of burrow-rs.

fn main() -> std::process::ExitCode {
    burrow_cli::main_with(burrow_cli::Extensions::default())
}
