#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bottleneck_fuzz::targets::tour(data));
