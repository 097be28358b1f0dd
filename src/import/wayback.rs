//! The Wayback Machine backfill.
