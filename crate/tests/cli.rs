//! The `bottleneck` binary as a user runs it: every command, and one-line errors (never a
//! panic) for bad arguments and unreadable or damaged files.

use std::path::PathBuf;
use std::process::{Command, Output};

use bottleneck::data::idx;

fn bottleneck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bottleneck")).args(args).output().expect("the binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bottleneck-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 300 synthetic 28x28 digits as IDX files: a vertical bar placed by the label.
fn write_idx(dir: &std::path::Path) -> (String, String) {
    let n = 300;
    let (labels, pixels) = bottleneck::data::synthetic::bars(n, 200);
    let images_path = dir.join("images-idx3-ubyte");
    let labels_path = dir.join("labels-idx1-ubyte");
    std::fs::write(&images_path, idx::encode_images(&pixels, n, 28, 28)).unwrap();
    std::fs::write(&labels_path, idx::encode_labels(&labels)).unwrap();
    (images_path.display().to_string(), labels_path.display().to_string())
}

/// One failing command line: exit code 2, nothing on stdout, and a single stderr line starting
/// "bottleneck: " that contains `fragment` (usage text may follow on later lines).
fn check_fails(args: &[&str], fragment: &str) {
    let out = bottleneck(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    let first = stderr.lines().next().unwrap_or("");
    assert!(first.starts_with("bottleneck: ") && first.contains(fragment), "{args:?}: first line {first:?} should contain {fragment:?}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
}

#[test]
fn bad_command_lines_fail_with_one_line() {
    let dir = scratch("bad");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{not json").unwrap();
    let garbage = garbage.display().to_string();
    let notidx = dir.join("not-idx");
    std::fs::write(&notidx, [1u8, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    let notidx = notidx.display().to_string();
    check_fails(&[], "no command given");
    check_fails(&["fly"], "unknown command \"fly\"");
    check_fails(&["train"], "needs --preset");
    check_fails(&["train", "--preset", "nope", "--out", "x.json"], "unknown preset \"nope\"");
    check_fails(&["train", "--preset", "convnetjs"], "needs --out");
    check_fails(&["train", "--preset", "convnetjs", "--out", "x.json", "--epochs", "many"], "--epochs: expected a whole number");
    check_fails(&["train", "--preset", "convnetjs", "--out", "x.json", "--epochs"], "--epochs needs a value");
    check_fails(&["train", "--preset", "convnetjs", "--out", "x.json", "--bogus", "1"], "unknown option --bogus");
    check_fails(&["train", "--preset", "convnetjs", "--out", "/nonexistent-dir/x.json", "--images", &notidx], "not an IDX file");
    check_fails(&["train", "--preset", "convnetjs", "--out", "x.json", "--images", "/no/such/file"], "cannot read /no/such/file");
    check_fails(&["eval"], "exactly one SNAPSHOT.json");
    check_fails(&["eval", "/no/such/snapshot.json"], "cannot read /no/such/snapshot.json");
    check_fails(&["eval", &garbage], "not valid JSON");
    check_fails(&["presets", "extra", "--x"], "unknown option --x");
}

#[test]
fn presets_lists_every_preset() {
    let out = bottleneck(&["presets"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for preset in bottleneck::presets::all() {
        assert!(text.lines().any(|l| l.starts_with(&preset.name) && l.contains(&preset.description)), "{text}");
    }
}

#[test]
fn train_then_eval_on_idx_files() {
    let dir = scratch("train");
    let (images, labels) = write_idx(&dir);
    let snapshot = dir.join("snap.json").display().to_string();
    let out = bottleneck(&["train", "--preset", "convnetjs", "--epochs", "2", "--seed", "3", "--images", &images, "--labels", &labels, "--out", &snapshot]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("epoch   2") && stdout.contains("validation") && stdout.contains("PCA with 2 components"), "{stdout}");

    let out = bottleneck(&["eval", &snapshot, "--images", &images, "--labels", &labels, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["n_images"], 300);
    let mse = result["mse_per_pixel"].as_f64().unwrap();
    assert!(mse.is_finite() && mse > 0.0 && mse < 0.1, "{result}");
    assert!(result.get("bce_per_pixel").is_none(), "linear output has no BCE");

    // Round trip through ConvNetJS's format keeps the evaluation.
    let cjs = dir.join("cjs.json").display().to_string();
    let back = dir.join("back.json").display().to_string();
    assert!(bottleneck(&["export-convnetjs", &snapshot, "--out", &cjs]).status.success());
    assert!(bottleneck(&["import-convnetjs", &cjs, "--out", &back]).status.success());
    let again = bottleneck(&["eval", &back, "--images", &images, "--json"]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!((again["mse_per_pixel"].as_f64().unwrap() - mse).abs() < 1e-9, "{again} vs {mse}");
    check_fails(&["import-convnetjs", &snapshot, "--out", &back], "\"layers\" array");
    check_fails(&["export-convnetjs", &cjs, "--out", &back], "looks like a ConvNetJS");
    check_fails(&["export-convnetjs", &cjs], "needs --out");

    // A snapshot for 784 inputs refuses 16-pixel images.
    let small = dir.join("small-idx3-ubyte");
    std::fs::write(&small, idx::encode_images(&[0; 32], 2, 4, 4)).unwrap();
    check_fails(&["eval", &snapshot, "--images", &small.display().to_string()], "takes 784 inputs but the images have 16 pixels");
}
