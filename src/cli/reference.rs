//! The generated documentation of the command line: the Markdown reference
//! (docs/cli-reference.md), shell completions and the man page, all made from the clap
//! definitions, so they cannot disagree with `--help`.

use std::fmt::Write as _;

use clap::{Arg, Command, CommandFactory as _};

use super::Cli;

/// How to bring docs/cli-reference.md up to date; the suite fails while it is stale.
pub const REGENERATE: &str = "UPDATE_CLI_REFERENCE=1 cargo test --test tests cli_reference";

/// The whole command tree, with globals propagated and usage lines computed.
pub fn command() -> Command {
    let mut command = Cli::command();
    command.build();
    command
}

/// docs/cli-reference.md: every command with its usage, description, arguments and
/// options (grouped as `--help` groups them), and the notes `--help` prints after them.
pub fn markdown() -> String {
    let command = command();
    let mut out = format!(
        "# Command-line reference\n\n\
         <!-- Generated from the clap definitions (src/cli/). Do not edit by hand: run\n     \
         {REGENERATE}\n-->\n\n\
         This page is what `clausewatch help COMMAND` prints, for every command. Options\n\
         that also read an environment variable or `clausewatch.toml` say so.\n\n"
    );
    write_command(&mut out, &command, &[]);
    out
}

fn visible_subcommands(command: &Command) -> impl Iterator<Item = &Command> {
    command
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

fn command_path(command: &Command) -> String {
    command.get_bin_name().unwrap_or_else(|| command.get_name()).to_string()
}

/// GitHub's heading anchors: lowercase, spaces as hyphens, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn first_line(text: Option<&clap::builder::StyledStr>) -> String {
    text.map(|t| t.to_string().lines().next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

fn write_command(out: &mut String, command: &Command, parents: &[&Command]) {
    let path = command_path(command);
    let _ = writeln!(out, "## `{path}`\n");
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        let _ = writeln!(out, "{}\n", about.to_string().trim_end());
    }
    let usage = command.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    let _ = writeln!(out, "```text\n{usage}\n```\n");

    let subcommands: Vec<&Command> = visible_subcommands(command).collect();
    if !subcommands.is_empty() {
        out.push_str("**Commands:**\n\n");
        for sub in &subcommands {
            let sub_path = format!("{path} {}", sub.get_name());
            let _ = writeln!(
                out,
                "- [`{}`](#{}): {}",
                sub.get_name(),
                anchor(&sub_path),
                first_line(sub.get_about())
            );
        }
        out.push('\n');
    }

    // Globals, --help and --version are listed once, on the top command.
    let own = |arg: &&Arg| {
        !arg.is_hide_set()
            && (parents.is_empty() || !(arg.is_global_set() || matches!(arg.get_id().as_str(), "help" | "version")))
    };
    let positionals: Vec<&Arg> = command.get_positionals().filter(own).collect();
    if !positionals.is_empty() {
        out.push_str("**Arguments:**\n\n");
        for arg in positionals {
            write_arg(out, arg);
        }
        out.push('\n');
    }
    let mut headings: Vec<Option<&str>> = Vec::new();
    for arg in command.get_opts().chain(flags(command)).filter(own) {
        if !headings.contains(&arg.get_help_heading()) {
            headings.push(arg.get_help_heading());
        }
    }
    headings.sort_by_key(|h| h.is_some());
    for heading in headings {
        let _ = writeln!(out, "**{}:**\n", heading.unwrap_or("Options"));
        for arg in command
            .get_arguments()
            .filter(|a| !a.is_positional())
            .filter(own)
            .filter(|a| a.get_help_heading() == heading)
        {
            write_arg(out, arg);
        }
        out.push('\n');
    }
    if let Some(after) = command.get_after_long_help().or(command.get_after_help()) {
        let _ = writeln!(out, "```text\n{}\n```\n", after.to_string().trim_end());
    }

    let mut parents = parents.to_vec();
    parents.push(command);
    for sub in subcommands {
        write_command(out, sub, &parents);
    }
}

/// The arguments that take no value (flags), which `get_opts` leaves out.
fn flags(command: &Command) -> impl Iterator<Item = &Arg> {
    command
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.get_action().takes_values())
}

fn write_arg(out: &mut String, arg: &Arg) {
    let mut name = String::new();
    if let Some(short) = arg.get_short() {
        let _ = write!(name, "-{short}");
        if arg.get_long().is_some() {
            name.push_str(", ");
        }
    }
    if let Some(long) = arg.get_long() {
        let _ = write!(name, "--{long}");
    }
    let values: Vec<String> = arg
        .get_value_names()
        .map(|names| names.iter().map(|n| n.to_string()).collect())
        .unwrap_or_else(|| vec![arg.get_id().as_str().to_ascii_uppercase()]);
    if arg.is_positional() {
        let value = values.join(" ");
        name = if arg.is_required_set() {
            format!("<{value}>")
        } else {
            format!("[{value}]")
        };
        if arg.get_num_args().is_some_and(|n| n.max_values() > 1) {
            name.push_str("...");
        }
    } else if arg.get_action().takes_values() {
        // A value that may be left out is written as clap's help writes it.
        if arg.is_require_equals_set() && arg.get_num_args().is_some_and(|n| n.min_values() == 0) {
            let _ = write!(name, "[=<{}>]", values.join("> <"));
        } else {
            let _ = write!(name, " <{}>", values.join("> <"));
        }
    }
    let help = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut notes: Vec<String> = Vec::new();
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && arg.get_action().takes_values() {
        notes.push(format!("default: `{}`", defaults.join(", ")));
    }
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    if !possible.is_empty() && arg.get_action().takes_values() {
        notes.push(format!("values: {}", possible.join(", ")));
    }
    if let Some(env) = arg.get_env() {
        notes.push(format!("env: `{}`", env.to_string_lossy()));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    let _ = writeln!(out, "- `{name}`: {help}{notes}");
}

/// `clausewatch completions SHELL`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "clausewatch", out);
}

/// `clausewatch man [COMMAND]...`: the manual page in roff, of clausewatch (its
/// COMMANDS section lists every command) or of one command (`clausewatch-track(1)`, as
/// git and jj name theirs). `None` when no such command exists.
pub fn man(path: &[String], out: &mut dyn std::io::Write) -> Option<std::io::Result<()>> {
    let mut page = command();
    let mut names = vec![page.get_name().to_string()];
    for name in path {
        let sub = visible_subcommands(&page).find(|c| c.get_name() == name)?.clone();
        page = sub;
        names.push(name.clone());
    }
    let title = names.join("-");
    let page = page.display_name(title.clone());
    let man = clap_mangen::Man::new(page)
        .title(title)
        .source(format!("clausewatch {}", env!("CARGO_PKG_VERSION")));
    Some(man.render(out))
}
