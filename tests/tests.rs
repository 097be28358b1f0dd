//! The integration suite: one binary (it links once), a module per area. Every test
//! builds its own git repository in a temp dir and serves its pages from 127.0.0.1.

mod support;

mod alerts;
mod answers;
mod archive_safety;
mod browser;
mod cli;
mod compare_matrix;
mod continuity;
mod corpus;
mod corpus_archive;
mod declarations;
mod default_declarations;
mod error_pages;
mod errors;
mod export;
mod extract;
mod failure_tracking;
mod golden;
mod golden_site;
mod health;
mod history;
mod hostile_settings;
mod hostile_text;
mod import_ota;
mod import_wayback;
mod invariants;
mod languages;
mod properties;
mod provision_changes;
mod provision_history;
mod provisions;
mod real_histories;
mod reliability;
mod render;
mod show;
mod site;
mod tag_cache;
mod track;
