//! clausewatch: a git-backed archive of the documents that govern online platforms.
//!
//! Data flows one way, and so do the modules: [`declaration`] -> [`fetch`] -> [`canon`]
//! -> [`archive`] -> [`report`] -> [`site`]. [`track`] runs the pipeline; [`cli`] is the command line
//! on top of it.

pub mod archive;
pub mod canon;
pub mod cli;
pub mod clock;
pub mod config;
pub mod declaration;
pub mod export;
pub mod failure;
pub mod fetch;
pub mod health;
pub mod import;
pub mod notify;
pub mod printable;
pub mod provision;
pub mod reextract;
pub mod regular_file;
pub mod report;
pub mod site;
pub mod status;
pub mod track;

/// Files of the default archive embedded at build time (see `build.rs`).
pub mod defaults {
    include!(concat!(env!("OUT_DIR"), "/default_archive.rs"));
}
