//! Reading changes: sentence diffs, change classification and summaries.

pub mod atom;
pub mod blame;
pub mod dates;
pub mod diff;
pub mod html;
pub mod markdown;
pub mod model;
pub mod position;
pub mod provision_changes;
pub mod provisions;
pub mod provisions_html;
pub mod since;
pub mod summary;
pub mod words;

pub use diff::{Counts, SentenceChange, TextDiff, classify, diff_texts};
