//! The `bottleneck` binary as a user runs it: every command and its `--help`, `--resume`
//! continuing a run byte for byte, files written whole or not at all, and one-line errors
//! (never a panic) for bad arguments and unreadable or damaged files.

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
fn tour_lists_the_stops_and_checks_a_teachers_file() {
    let out = bottleneck(&["tour"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let tour = bottleneck::tour::builtin();
    assert!(text.starts_with(&format!("{}: {} stops", tour.title, tour.stops.len())), "{text}");
    assert!(text.contains(" 1. A code of two numbers (preset=convnetjs; the loss panel, waits for \"beats PCA\")"), "{text}");
    let dir = scratch("tour");
    let mine = dir.join("mine.json");
    std::fs::write(&mine, r#"{"title": "Mine", "stops": [{"title": "One", "link": {"preset": "turnoff"}, "panel": "turnoff", "text": "x", "try": "y"}]}"#).unwrap();
    let out = bottleneck(&["tour", &mine.display().to_string()]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "Mine: 1 stops\n 1. One (preset=turnoff; the turnoff panel)\n");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"title": "Mine", "stops": [{"title": "One", "link": {"preset": "turnoff"}, "panel": "grid", "text": "x", "try": "y"}]}"#).unwrap();
    check_fails(&["tour", &bad.display().to_string()], "Stop 1's panel \"grid\" is not one of the page's panels");
    let big = dir.join("big.json");
    std::fs::write(&big, vec![b' '; 300 * 1024]).unwrap();
    check_fails(&["tour", &big.display().to_string()], "it may be at most 262144");
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
    // What the 2-unit code knows, beside PCA-2 and the pixels, each a share of digits right.
    let knowledge = &result["knowledge"];
    assert_eq!(knowledge["units"], 2, "{result}");
    for scores in ["code", "pca", "pixels"] {
        for probe in ["linear", "knn"] {
            let v = knowledge[scores][probe].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&v), "{scores} {probe}: {result}");
        }
    }
    // The text says the same, in percent.
    let out = bottleneck(&["eval", &snapshot, "--images", &images, "--labels", &labels]);
    let text = String::from_utf8_lossy(&out.stdout);
    let pct = |v: &serde_json::Value| format!("{:.1} %", 100.0 * v.as_f64().unwrap());
    let code_row = text.lines().find(|l| l.trim_start().starts_with("code (2 units)")).unwrap_or_else(|| panic!("{text}"));
    assert!(code_row.contains(&pct(&knowledge["code"]["linear"])) && code_row.contains(&pct(&knowledge["code"]["knn"])), "{text}");
    assert!(text.contains("PCA-2") && text.contains("pixels"), "{text}");

    // Round trip through ConvNetJS's format keeps the evaluation.
    let cjs = dir.join("cjs.json").display().to_string();
    let back = dir.join("back.json").display().to_string();
    assert!(bottleneck(&["export-convnetjs", &snapshot, "--out", &cjs]).status.success());
    assert!(bottleneck(&["import-convnetjs", &cjs, "--out", &back]).status.success());
    let again = bottleneck(&["eval", &back, "--images", &images, "--json"]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert!((again["mse_per_pixel"].as_f64().unwrap() - mse).abs() < 1e-9, "{again} vs {mse}");
    assert!(again["knowledge"].is_null(), "without labels there is nothing to probe: {again}");
    check_fails(&["import-convnetjs", &snapshot, "--out", &back], "\"layers\" array");
    check_fails(&["export-convnetjs", &cjs, "--out", &back], "looks like a ConvNetJS");
    check_fails(&["export-convnetjs", &cjs], "needs --out");

    // A snapshot for 784 inputs refuses 16-pixel images.
    let small = dir.join("small-idx3-ubyte");
    std::fs::write(&small, idx::encode_images(&[0; 32], 2, 4, 4)).unwrap();
    check_fails(&["eval", &snapshot, "--images", &small.display().to_string()], "takes 784 inputs but the images have 16 pixels");
}

#[test]
fn help_prints_every_usage() {
    for args in [&["help"][..], &["--help"], &["-h"]] {
        let out = bottleneck(args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && out.stderr.is_empty(), "{args:?}");
        assert!(text.contains("bottleneck train --resume SNAPSHOT.json") && text.contains("bottleneck export-convnetjs"), "{args:?}: {text}");
    }
    for command in ["train", "eval", "presets", "import-convnetjs", "export-convnetjs", "tour"] {
        for args in [[command, "--help"], [command, "-h"], ["help", command]] {
            let out = bottleneck(&args);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success() && out.stderr.is_empty(), "{args:?}");
            assert!(text.starts_with(&format!("usage: bottleneck {command}")), "{args:?}: {text}");
        }
    }
    check_fails(&["help", "fly"], "unknown command \"fly\"");
    check_fails(&["eval", "x.json", "--json=yes"], "--json takes no value");
    check_fails(&["presets", "extra"], "presets takes no positional arguments");
    check_fails(&["train", "--preset", "convnetjs", "--out", "a.json", "--out", "b.json"], "--out given twice");
}

/// File names are taken as the system gives them, UTF-8 or not.
#[cfg(unix)]
#[test]
fn arguments_need_not_be_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"/no/such/caf\xe9.json");
    let out = Command::new(env!("CARGO_BIN_EXE_bottleneck")).arg("eval").arg(name).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("bottleneck: cannot read /no/such/caf"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_bottleneck")).arg(std::ffi::OsStr::from_bytes(b"\xff")).output().expect("the binary runs");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("bottleneck: unknown command"));
}

/// Two epochs straight, or one epoch and then `--resume` to two: the same snapshot, byte for byte.
#[test]
fn resume_continues_a_run_exactly() {
    let dir = scratch("resume");
    let (images, labels) = write_idx(&dir);
    let path = |name: &str| dir.join(name).display().to_string();
    let (straight, first, resumed) = (path("straight.json"), path("first.json"), path("resumed.json"));
    let train = |extra: &[&str], out: &str| {
        let mut args = vec!["train", "--images", &images, "--labels", &labels, "--out", out];
        args.extend_from_slice(extra);
        let run = bottleneck(&args);
        assert!(run.status.success(), "{args:?}: {}", String::from_utf8_lossy(&run.stderr));
        String::from_utf8_lossy(&run.stdout).into_owned()
    };
    train(&["--preset", "convnetjs", "--seed", "3", "--epochs", "2"], &straight);
    train(&["--preset", "convnetjs", "--seed", "3", "--epochs", "1"], &first);
    let stdout = train(&["--resume", &first, "--epochs", "2"], &resumed);
    assert!(stdout.contains("1 of 2 epochs done") && stdout.contains("epoch   2") && !stdout.contains("epoch   1"), "{stdout}");
    assert!(std::fs::read(&first).unwrap() != std::fs::read(&straight).unwrap());
    assert!(std::fs::read(&straight).unwrap() == std::fs::read(&resumed).unwrap(), "the resumed run differs from the straight one");
    // Without --epochs, one more epoch: the same two-epoch snapshot again.
    let again = path("again.json");
    train(&["--resume", &first], &again);
    assert!(std::fs::read(&straight).unwrap() == std::fs::read(&again).unwrap());

    check_fails(&["train", "--resume", &first, "--epochs", "1", "--images", &images, "--labels", &labels, "--out", &again], "1 epoch is complete already");
    check_fails(&["train", "--resume", &first, "--seed", "2", "--out", &again], "--seed does not apply to --resume");
    check_fails(&["train", "--resume", &first, "--preset", "convnetjs", "--out", &again], "not both");
    check_fails(&["train", "--resume", "/no/such/snapshot.json", "--out", &again], "cannot read /no/such/snapshot.json");
    // Other digits than the run's: its data order cannot go on.
    let (_, other_pixels) = bottleneck::data::synthetic::bars(200, 7);
    let other = path("other-idx3-ubyte");
    std::fs::write(&other, idx::encode_images(&other_pixels, 200, 28, 28)).unwrap();
    check_fails(&["train", "--resume", &first, "--images", &other, "--out", &again], "lists 270 examples");
    let cjs = path("cjs.json");
    assert!(bottleneck(&["export-convnetjs", &first, "--out", &cjs]).status.success());
    check_fails(&["train", "--resume", &cjs, "--images", &images, "--out", &again], "holds no training to resume");
}

/// The file names in `dir`, sorted.
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// A run that fails after it started (here, it diverges) writes nothing: no --out, no
/// temporary file, and a file already at --out is left as it was.
#[test]
fn a_failed_run_leaves_no_file() {
    let dir = scratch("failed");
    let (images, labels) = write_idx(&dir);
    let path = |name: &str| dir.join(name).display().to_string();
    let snapshot = path("turnoff.json");
    let run = bottleneck(&["train", "--preset", "turnoff", "--epochs", "1", "--images", &images, "--labels", &labels, "--out", &snapshot]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    // The same run with an absurd learning rate: it diverges on its next steps.
    let mut saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&snapshot).unwrap()).unwrap();
    saved["train"]["optimizer"]["lr"] = serde_json::json!(1e30);
    let wild = path("wild.json");
    std::fs::write(&wild, saved.to_string()).unwrap();
    let before = listing(&dir);

    let out = path("out.json");
    check_fails(&["train", "--resume", &wild, "--epochs", "3", "--images", &images, "--labels", &labels, "--out", &out], "diverged");
    assert_eq!(listing(&dir), before, "a failed run left a file behind");

    let existing = path("existing.json");
    std::fs::write(&existing, "keep me").unwrap();
    check_fails(&["train", "--resume", &wild, "--epochs", "3", "--images", &images, "--labels", &labels, "--out", &existing], "diverged");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");

    // An unwritable place is found before training, and leaves nothing either.
    check_fails(&["train", "--preset", "turnoff", "--images", &images, "--labels", &labels, "--out", &dir.join("no-dir/x.json").display().to_string()], "cannot write");
    check_fails(&["train", "--preset", "turnoff", "--images", &images, "--labels", &labels, "--out", &dir.display().to_string()], "is a directory");
    let mut expected = before;
    expected.push("existing.json".to_string());
    expected.sort();
    assert_eq!(listing(&dir), expected);
}

/// Write a fresh snapshot of `spec` (trained with the named preset's settings) to `path`.
fn snapshot_of(spec: &str, settings_of: &str, path: &std::path::Path) {
    let spec = bottleneck::model::NetSpec::from_json(spec).unwrap();
    let config = bottleneck::presets::find(settings_of).unwrap().train.clone();
    let trainer = bottleneck::train::Trainer::new(&spec, config, 5).unwrap();
    std::fs::write(path, bottleneck::snapshot::save(&trainer, &bottleneck::data::DataSpec::mnist()).unwrap()).unwrap();
}

#[test]
fn export_convnetjs_writes_softmax_and_refuses_top_k() {
    let dir = scratch("export");
    let classifier = dir.join("classifier.json");
    snapshot_of(
        r#"{"layers":[{"type":"input","width":28,"height":28,"depth":1},
            {"type":"fc","units":20,"activation":"sigmoid"},
            {"type":"fc","units":10,"activation":"linear"},
            {"type":"output","loss":"softmax"}]}"#,
        "pretrain",
        &classifier,
    );
    let cjs = dir.join("classifier-cjs.json");
    let run = bottleneck(&["export-convnetjs", &classifier.display().to_string(), "--out", &cjs.display().to_string()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = std::fs::read_to_string(&cjs).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let types: Vec<&str> = json["layers"].as_array().unwrap().iter().map(|l| l["layer_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["input", "fc", "sigmoid", "fc", "softmax"]);
    assert!(text.ends_with(r#"{"out_depth":10,"out_sx":1,"out_sy":1,"layer_type":"softmax","num_inputs":10}]}"#), "{}", &text[text.len() - 200..]);

    let k_sparse = dir.join("k-sparse.json");
    snapshot_of(
        r#"{"layers":[{"type":"input","width":28,"height":28,"depth":1},
            {"type":"fc","name":"code","units":40,"activation":"linear","top_k":5,"code":true},
            {"type":"fc","units":784,"activation":"linear","tied":"code"},
            {"type":"output","loss":"mse"}]}"#,
        "k-sparse",
        &k_sparse,
    );
    let refused = dir.join("k-sparse-cjs.json");
    check_fails(&["export-convnetjs", &k_sparse.display().to_string(), "--out", &refused.display().to_string()], "layer 1 (code) keeps only the 5 largest of its 40 activations (top-k");
    assert!(!refused.exists(), "a refused export left a file");
    assert!(listing(&dir).iter().all(|name| !name.ends_with(".tmp")), "{:?}", listing(&dir));
}
