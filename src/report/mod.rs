//! Reading changes: sentence diffs, change classification and summaries.

pub mod diff;
pub mod summary;

pub use diff::{Counts, SentenceChange, TextDiff, classify, diff_texts};
