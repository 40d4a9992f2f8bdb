//! `npm run soak`: one `Session` on the built-in digits for a few minutes (default 3), driven
//! the way the page drives it: `run_for(20 ms)` in a loop, every panel drawn twice a second, and
//! every half second the next operation of a fixed cycle that visits every preset: load the
//! preset, start a comparison (the preset's own, or the same network with half the batch), stop
//! it, save, load what was saved, export to ConvNetJS, reset.
//! Resident memory (/proc/self/statm) is sampled every 100 ms.
//!
//! At the end it prints the memory at the start, at the 1-minute mark, the peak and the end,
//! each cycle's memory, and the operations of each kind (and how many were refused). It fails
//! (exit code 1) when the peak of the last full cycle is above the peak of the first full cycle
//! that starts after the 1-minute mark by more than the margin: the larger of `--margin-mb`
//! (default 50) MiB and `--margin-pct` (default 20) % of that first peak. Both cycles run the
//! same preset mix, so growth between them is memory that is not given back.
//!
//! ```text
//! cargo run --release --example soak -- [--seconds 180] [--margin-mb 50] [--margin-pct 20] [--data PATH]
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bottleneck::data::asset;
use bottleneck::model::network::Workspace;
use bottleneck::presets;
use bottleneck::session::panels::{self, Panel};
use bottleneck::session::{Command, Experiment, Payload, Session};


/// Resident set size in bytes, from /proc/self/statm (0 where there is none).
fn rss_bytes() -> u64 {
    let page = page_size();
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map_or(0, |pages| pages * page)
}

fn page_size() -> u64 {
    #[cfg(target_os = "linux")]
    {
        extern "C" {
            fn sysconf(name: i32) -> i64;
        }
        const SC_PAGESIZE: i32 = 30;
        // SAFETY: sysconf only reads a configuration value.
        let size = unsafe { sysconf(SC_PAGESIZE) };
        if size > 0 {
            return size as u64;
        }
    }
    4096
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

struct Args {
    seconds: u64,
    margin_mb: f64,
    margin_pct: f64,
    data: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { seconds: 180, margin_mb: 50.0, margin_pct: 20.0, data: None };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = argv.get(i + 1).ok_or(format!("{} needs a value", argv[i]))?;
        let number = |v: &str| v.parse::<f64>().map_err(|_| format!("{}: {v:?} is not a number", argv[i]));
        match argv[i].as_str() {
            "--seconds" => args.seconds = number(value)? as u64,
            "--margin-mb" => args.margin_mb = number(value)?,
            "--margin-pct" => args.margin_pct = number(value)?,
            "--data" => args.data = Some(PathBuf::from(value)),
            other => return Err(format!("unknown argument {other}; usage: soak [--seconds N] [--margin-mb MB] [--margin-pct P] [--data PATH]")),
        }
        i += 2;
    }
    Ok(args)
}

fn asset_path(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(bottleneck::data::asset::builtin_path)
}

/// The operations of one preset's turn, one every half second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    LoadPreset,
    Save,
    Load,
    ExportConvnetjs,
    Compare,
    StopCompare,
    Reset,
}

const TURN: [Op; 7] = [Op::LoadPreset, Op::Compare, Op::StopCompare, Op::Save, Op::Load, Op::ExportConvnetjs, Op::Reset];
const OP_EVERY: Duration = Duration::from_millis(500);
const PANELS_EVERY: Duration = Duration::from_millis(500);
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

#[derive(Default)]
struct Cycle {
    start_s: f64,
    start_rss: u64,
    peak_rss: u64,
    end_rss: u64,
    complete: bool,
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    };
    let path = asset_path(args.data.clone());
    let digits = match std::fs::read(&path).map_err(|e| e.to_string()).and_then(|b| asset::parse(&b)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("soak: cannot read the built-in digits at {}: {e} (run `npm run build:data` first, or pass --data)", path.display());
            std::process::exit(2);
        }
    };
    let names: Vec<String> = presets::all().iter().map(|p| p.name.clone()).collect();
    let start = Instant::now();
    let start_rss = rss_bytes();
    let mut session = Session::start(Experiment::preset(&names[0], 1).expect("the first preset"), Some(digits), bottleneck::clock::Wall::boxed()).expect("the session starts");
    let mut work = Workspace::default();
    let deadline = Duration::from_secs(args.seconds);
    println!(
        "soak: {} s, presets {} (one cycle: {} operations, {:.1} s); resident memory at start {:.1} MiB",
        args.seconds,
        names.join(", "),
        names.len() * TURN.len(),
        (names.len() * TURN.len()) as f64 * OP_EVERY.as_secs_f64(),
        mib(start_rss)
    );
    let mut ops: BTreeMap<Op, (u64, u64)> = BTreeMap::new(); // (done, refused)
    let mut refusals: BTreeMap<String, u64> = BTreeMap::new();
    let mut saved: Option<String> = None;
    let mut ticks = 0u64;
    let mut panels_drawn = 0u64;
    let mut peak = start_rss;
    let mut minute_rss: Option<u64> = None;
    let mut cycles: Vec<Cycle> = Vec::new();
    let mut next_op = start + OP_EVERY;
    let mut next_panels = start;
    let mut next_sample = start;
    let mut step = 0usize;
    let mut slowest_tick = (Duration::ZERO, String::new());
    let mut slowest_op = (Duration::ZERO, String::new());
    while start.elapsed() < deadline {
        let tick = Instant::now();
        session.run_for(20.0);
        if tick.elapsed() > slowest_tick.0 {
            slowest_tick = (tick.elapsed(), session.state().preset);
        }
        ticks += 1;
        let now = Instant::now();
        if now >= next_panels {
            for panel in Panel::ALL {
                let _ = panels::scene(panel, &session, &mut work, panel.natural_width());
                panels_drawn += 1;
            }
            next_panels = now + PANELS_EVERY;
        }
        if now >= next_op {
            let turn = step % TURN.len();
            let preset_idx = (step / TURN.len()) % names.len();
            if turn == 0 && preset_idx == 0 {
                if let Some(last) = cycles.last_mut() {
                    last.complete = true;
                    last.end_rss = rss_bytes();
                }
                let rss = rss_bytes();
                cycles.push(Cycle { start_s: start.elapsed().as_secs_f64(), start_rss: rss, peak_rss: rss, ..Cycle::default() });
            }
            let cycle_no = (step / (TURN.len() * names.len())) as u64;
            let op = TURN[turn];
            let name = &names[preset_idx];
            let command = match op {
                Op::LoadPreset => Command::LoadPreset { name: name.clone(), seed: Some(1 + cycle_no % 3) },
                Op::Save => Command::Save,
                Op::Load => Command::Load { bytes: saved.take().unwrap_or_default().into_bytes() },
                Op::ExportConvnetjs => Command::ExportConvnetjs,
                Op::Compare => {
                    if session.state().comparison.is_some() {
                        Command::Compare { label: None, spec: None, config: None }
                    } else {
                        let mut config = session.experiment().train.clone();
                        config.batch_size = (config.batch_size / 2).max(1);
                        Command::Compare { label: Some("half batch".into()), spec: None, config: Some(config) }
                    }
                }
                Op::StopCompare => Command::StopCompare,
                Op::Reset => Command::Reset { seed: Some(2 + cycle_no % 3) },
            };
            let entry = ops.entry(op).or_default();
            entry.0 += 1;
            let op_start = Instant::now();
            let result = session.apply(command);
            if op_start.elapsed() > slowest_op.0 {
                slowest_op = (op_start.elapsed(), format!("{op:?} on {name}"));
            }
            match result {
                Ok(reply) => {
                    if let Payload::Snapshot(text) = reply.payload {
                        saved = Some(text);
                    }
                }
                Err(e) => {
                    entry.1 += 1;
                    *refusals.entry(format!("{op:?} on {name}: {}", e.0)).or_default() += 1;
                }
            }
            if session.stats().paused {
                let _ = session.apply(Command::Resume);
            }
            step += 1;
            next_op = Instant::now() + OP_EVERY;
        }
        if now >= next_sample {
            let rss = rss_bytes();
            peak = peak.max(rss);
            if let Some(c) = cycles.last_mut() {
                c.peak_rss = c.peak_rss.max(rss);
            }
            if minute_rss.is_none() && start.elapsed() >= Duration::from_secs(60) {
                minute_rss = Some(rss);
            }
            next_sample = now + SAMPLE_EVERY;
        }
    }
    let end_rss = rss_bytes();
    peak = peak.max(end_rss);
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "\nsoak: {elapsed:.0} s, {ticks} ticks of run_for(20 ms) (slowest {:.0} ms, on {}), {panels_drawn} panels drawn; slowest operation {:.0} ms ({})",
        slowest_tick.0.as_secs_f64() * 1000.0,
        slowest_tick.1,
        slowest_op.0.as_secs_f64() * 1000.0,
        slowest_op.1
    );
    println!("operations (done, refused):");
    for (op, (done, refused)) in &ops {
        println!("  {op:?}: {done} ({refused} refused)");
    }
    for (why, n) in &refusals {
        println!("  refused ×{n}: {why}");
    }
    println!("resident memory: start {:.1} MiB, 1-minute mark {}, peak {:.1} MiB, end {:.1} MiB", mib(start_rss), minute_rss.map_or("(not reached)".into(), |m| format!("{:.1} MiB", mib(m))), mib(peak), mib(end_rss));
    for (i, c) in cycles.iter().enumerate() {
        println!(
            "  cycle {i} from {:.0} s: start {:.1} MiB, peak {:.1} MiB{}",
            c.start_s,
            mib(c.start_rss),
            mib(c.peak_rss),
            if c.complete { format!(", end {:.1} MiB", mib(c.end_rss)) } else { " (incomplete)".into() }
        );
    }
    let full: Vec<&Cycle> = cycles.iter().filter(|c| c.complete && c.start_s >= 60.0).collect();
    if full.len() < 2 {
        println!("soak: fewer than two full cycles after the 1-minute mark, so no growth check (run longer: --seconds 180 or more)");
        return;
    }
    let (first, last) = (full[0], full[full.len() - 1]);
    let allowed = (args.margin_mb * 1024.0 * 1024.0).max(first.peak_rss as f64 * args.margin_pct / 100.0);
    let growth = last.peak_rss as f64 - first.peak_rss as f64;
    println!(
        "growth of the cycle peak after the 1-minute mark: {:+.1} MiB ({:.1} -> {:.1} MiB); allowed {:.1} MiB (the larger of {} MiB and {} %)",
        growth / 1048576.0,
        mib(first.peak_rss),
        mib(last.peak_rss),
        allowed / 1048576.0,
        args.margin_mb,
        args.margin_pct
    );
    if growth > allowed {
        println!("soak: FAIL: memory grew by more than the margin");
        std::process::exit(1);
    }
    println!("soak: ok");
}
