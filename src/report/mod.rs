//! Reading changes: sentence diffs, change classification and summaries.

pub mod atom;
pub mod blame;
pub mod dates;
pub mod diff;
pub mod markdown;
pub mod model;
pub mod summary;
pub mod words;

pub use diff::{Counts, SentenceChange, TextDiff, classify, diff_texts};
