//! The `bottleneck` command: a thin shell over `bottleneck::cli`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(message) = bottleneck::cli::run(&args) {
        eprintln!("bottleneck: {message}");
        std::process::exit(2);
    }
}
