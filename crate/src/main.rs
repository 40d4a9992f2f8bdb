//! The `bottleneck` command: a thin shell over `bottleneck::cli`. Arguments are taken as the
//! operating system gives them (file names need not be UTF-8).

fn main() {
    if let Err(message) = bottleneck::cli::run(std::env::args_os().skip(1)) {
        eprintln!("bottleneck: {message}");
        std::process::exit(2);
    }
}
