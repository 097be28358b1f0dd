//! The integration suite: one binary (it links once), a module per area. Every test
//! builds its own git repository in a temp dir and serves its pages from 127.0.0.1.

mod support;

mod browser;
mod corpus;
mod corpus_archive;
mod declarations;
mod extract;
mod history;
mod properties;
mod provision_history;
mod provisions;
mod reliability;
mod render;
mod track;
