//! Replays the committed fuzz corpus (`crate/fuzz/corpus/<target>/`: seeds, and every input
//! that once crashed, after its fix) through the fuzz targets' own functions, on stable and
//! without libFuzzer: `crate/fuzz/src/targets.rs` is included here as it is compiled into the
//! `cargo fuzz` binaries. A target panics on a bug (a panic in the library, or a promise it
//! checks: refusals are plain sentences, a refused command changes nothing, what is saved opens
//! again), which fails the test with the file's name.

#[path = "../fuzz/src/targets.rs"]
#[allow(dead_code)]
mod targets;

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join("corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

fn replay(name: &str) {
    let (_, run) = targets::ALL.iter().find(|(n, _)| *n == name).expect("a target of that name");
    let files = corpus(name);
    assert!(!files.is_empty(), "the {name} corpus is empty");
    let mut failed = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        assert!(data.len() <= 100 << 10, "{}: {} bytes; corpus files stay under 100 KB", file.display(), data.len());
        if let Err(e) = panic::catch_unwind(AssertUnwindSafe(|| run(&data))) {
            let message = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            failed.push(format!("{}: {message}", file.display()));
        }
    }
    assert!(failed.is_empty(), "{} of {} {name} inputs fail:\n{}", failed.len(), files.len(), failed.join("\n"));
}

#[test]
fn every_target_has_a_corpus_and_a_test() {
    let names: Vec<&str> = targets::ALL.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["snapshot", "convnetjs", "idx", "spec", "command", "link", "asset", "tour"]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for name in names {
        assert!(dir.join("fuzz_targets").join(format!("{name}.rs")).is_file(), "no libFuzzer binary for {name}");
    }
}

/// The oracle itself: debug text outside quotes is refused, quoted input is not.
#[test]
fn refusals_must_be_plain_sentences() {
    targets::assert_sentence("ok", "layer 2: unknown field \"a::Some(b\"", b"");
    targets::assert_sentence("from the input", "bad Some(1)", b"Some(1)");
    for bad in ["value Some(3) is wrong", "a core::num error", "Err(\"x\")", ""] {
        assert!(panic::catch_unwind(|| targets::assert_sentence("bad", bad, b"")).is_err(), "{bad:?} passed");
    }
}

#[test]
fn corpus_snapshot() {
    replay("snapshot");
}

#[test]
fn corpus_convnetjs() {
    replay("convnetjs");
}

#[test]
fn corpus_idx() {
    replay("idx");
}

#[test]
fn corpus_spec() {
    replay("spec");
}

#[test]
fn corpus_command() {
    replay("command");
}

#[test]
fn corpus_link() {
    replay("link");
}

#[test]
fn corpus_asset() {
    replay("asset");
}

#[test]
fn corpus_tour() {
    replay("tour");
}
