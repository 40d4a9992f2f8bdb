//! The fuzz targets of Bottleneck's input boundaries, for `cargo fuzz` (libFuzzer): see
//! `targets.rs`, which `crate/tests/fuzz_corpus.rs` also includes to replay the corpus on stable.

pub mod targets;
