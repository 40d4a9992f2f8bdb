//! Standard IDX files (MNIST, Fashion-MNIST, EMNIST): `idx3-ubyte` images and `idx1-ubyte`
//! labels, plain or gzip-compressed. Header: two zero bytes, a type byte (0x08 = u8), the number
//! of dimensions, then each dimension as a big-endian u32; the data follows row-major.

use std::io::Read;

use super::dataset::Dataset;
use crate::budget::BUDGET;

/// Undo gzip if the bytes start with its magic number; otherwise borrow them as they are. The
/// header is inflated first: the body is inflated only up to the size it declares, and only
/// once the budget has judged that size, so a small hostile file cannot expand to gigabytes.
fn maybe_gunzip<'a>(bytes: &'a [u8], n_dims: u8, what: &str) -> Result<std::borrow::Cow<'a, [u8]>, String> {
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Ok(bytes.into());
    }
    let bad = |e: std::io::Error| format!("{what}: not a valid gzip stream ({e})");
    let mut stream = flate2::read::GzDecoder::new(bytes);
    let header_len = 4 + 4 * n_dims as usize;
    let mut out = Vec::new();
    (&mut stream).take(header_len as u64).read_to_end(&mut out).map_err(bad)?;
    let body_len = declared_len(&out, n_dims, what)?;
    // One byte more than promised shows trailing data, which parse_header then refuses.
    (&mut stream).take(body_len.saturating_add(1)).read_to_end(&mut out).map_err(bad)?;
    Ok(out.into())
}

/// The body size a (possibly partial) header promises, judged against the data budget.
fn declared_len(header: &[u8], n_dims: u8, what: &str) -> Result<u64, String> {
    let header_len = 4 + 4 * n_dims as usize;
    if header.len() < header_len {
        return Err(format!("{what}: truncated IDX header"));
    }
    let n = (0..n_dims as usize)
        .map(|d| u32::from_be_bytes(header[4 + 4 * d..8 + 4 * d].try_into().expect("4 bytes")) as u64)
        .fold(1u64, u64::saturating_mul);
    BUDGET.judge_data(what, n)?;
    Ok(n)
}

/// Parse the header and return the dimensions and the body.
fn parse_header<'a>(bytes: &'a [u8], n_dims: u8, what: &str) -> Result<(Vec<usize>, &'a [u8]), String> {
    if bytes.len() < 4 {
        return Err(format!("{what}: {} bytes is too short for an IDX header", bytes.len()));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(format!("{what}: not an IDX file (the first two bytes must be zero)"));
    }
    if bytes[2] != 0x08 {
        return Err(format!("{what}: IDX element type 0x{:02x}; only unsigned bytes (0x08) are supported", bytes[2]));
    }
    if bytes[3] != n_dims {
        return Err(format!("{what}: IDX file has {} dimensions, expected {n_dims}", bytes[3]));
    }
    let header_len = 4 + 4 * n_dims as usize;
    let body_len = declared_len(bytes, n_dims, what)?;
    let dims: Vec<usize> = (0..n_dims as usize)
        .map(|d| u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().expect("4 bytes")) as usize)
        .collect();
    let body = &bytes[header_len..];
    if body.len() as u64 != body_len {
        return Err(format!("{what}: header promises {body_len} bytes of data ({dims:?}) but {} follow", body.len()));
    }
    Ok((dims, body))
}

/// Parse an images file, and optionally its labels file, into a dataset with values in [0, 1].
pub fn parse(images: &[u8], labels: Option<&[u8]>) -> Result<Dataset, String> {
    let images = maybe_gunzip(images, 3, "images file")?;
    let (dims, body) = parse_header(&images, 3, "images file")?;
    let (n_images, rows, cols) = (dims[0], dims[1], dims[2]);
    if n_images == 0 || rows == 0 || cols == 0 {
        return Err(format!("images file: empty ({n_images} images of {rows}x{cols})"));
    }
    let labels = match labels {
        None => None,
        Some(bytes) => {
            let bytes = maybe_gunzip(bytes, 1, "labels file")?;
            let (dims, body) = parse_header(&bytes, 1, "labels file")?;
            if dims[0] != n_images {
                return Err(format!("labels file has {} labels for {n_images} images", dims[0]));
            }
            Some(body.to_vec())
        }
    };
    let pixels = body.iter().map(|&b| b as f32 / 255.0).collect();
    Ok(Dataset::new(cols, rows, pixels, labels))
}

/// Parse the files someone dropped: an images file and, optionally, its labels file, in either
/// order. Each is told by its header (three dimensions: images; one: labels), read through
/// gzip where it is compressed; nothing is inflated beyond the header before the budget agrees.
pub fn parse_files(files: &[&[u8]]) -> Result<Dataset, String> {
    let mut images = None;
    let mut labels = None;
    for (file_idx, bytes) in files.iter().enumerate() {
        let what = format!("file {} of {}", file_idx + 1, files.len());
        let slot = match n_dims(bytes, &what)? {
            3 => &mut images,
            1 => &mut labels,
            n => return Err(format!("{what}: an IDX file with {n} dimensions is neither digits (3) nor labels (1)")),
        };
        if slot.replace(*bytes).is_some() {
            return Err("give one images file and at most one labels file".into());
        }
    }
    let Some(images) = images else {
        return Err(if files.is_empty() { "no files given".into() } else { "these are labels only; the images file (idx3-ubyte) is missing".into() });
    };
    parse(images, labels)
}

/// The dimension count in an IDX header (the fourth byte), inflating only the header of a
/// gzipped file.
fn n_dims(bytes: &[u8], what: &str) -> Result<u8, String> {
    let mut header = [0u8; 4];
    let got = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut stream = flate2::read::GzDecoder::new(bytes).take(4);
        let mut out = Vec::new();
        stream.read_to_end(&mut out).map_err(|e| format!("{what}: not a valid gzip stream ({e})"))?;
        header[..out.len()].copy_from_slice(&out);
        out.len()
    } else {
        let n = bytes.len().min(4);
        header[..n].copy_from_slice(&bytes[..n]);
        n
    };
    if got < 4 || header[0] != 0 || header[1] != 0 || header[2] != 0x08 {
        return Err(format!("{what}: not an IDX file of bytes (MNIST's format, plain or gzipped)"));
    }
    Ok(header[3])
}

/// Encode images (and labels) as IDX bytes; used by tests and tools.
pub fn encode_images(pixels: &[u8], n_images: usize, rows: usize, cols: usize) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 3];
    for d in [n_images, rows, cols] {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 1];
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// Dropped files are told apart by their headers, in either order, plain or gzipped.
    #[test]
    fn dropped_files_are_told_apart_by_their_headers() {
        let pixels: Vec<u8> = (0..3 * 4).map(|i| (i * 20) as u8).collect();
        let (images, labels) = (encode_images(&pixels, 3, 2, 2), encode_labels(&[7, 1, 4]));
        let (gz_images, gz_labels) = (gzip(&images), gzip(&labels));
        for files in [vec![&images[..], &labels[..]], vec![&labels[..], &images[..]], vec![&gz_labels[..], &gz_images[..]], vec![&images[..], &gz_labels[..]]] {
            let digits = parse_files(&files).unwrap();
            assert_eq!((digits.n_images, digits.labels.as_deref()), (3, Some(&[7u8, 1, 4][..])));
            assert_eq!(digits.pixels[5], 100.0 / 255.0);
        }
        assert_eq!(parse_files(&[&gz_images]).unwrap().labels, None);
        let check = |files: &[&[u8]], expected: &str| {
            let err = parse_files(files).unwrap_err();
            assert!(err.contains(expected), "{err} should contain {expected:?}");
        };
        check(&[&labels], "the images file (idx3-ubyte) is missing");
        check(&[&images, &images], "one images file and at most one labels file");
        check(&[&images, b"{\"layers\": []}"], "file 2 of 2: not an IDX file");
        check(&[&[0x1f, 0x8b, 0, 1]], "not a valid gzip stream");
        check(&[], "no files given");
    }

    #[test]
    fn reads_plain_and_gzipped_files() {
        let pixels: Vec<u8> = (0..2 * 3 * 4).map(|i| (i * 10) as u8).collect();
        let images = encode_images(&pixels, 2, 3, 4);
        let labels = encode_labels(&[5, 9]);
        for (imgs, labs) in [(images.clone(), labels.clone()), (gzip(&images), gzip(&labels))] {
            let data = parse(&imgs, Some(&labs)).unwrap();
            assert_eq!((data.n_images, data.width, data.height), (2, 4, 3));
            assert_eq!(data.labels.as_deref(), Some(&[5u8, 9][..]));
            assert_eq!(data.image(1)[0], 120.0 / 255.0);
        }
        assert!(parse(&images, None).unwrap().labels.is_none());
    }

    #[test]
    fn reads_the_holdout_digits_when_present() {
        // The shared hold-out set (3,000 real MNIST test digits) sits beside the repository.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/holdout");
        let (Ok(images), Ok(labels)) = (
            std::fs::read(dir.join("mnist-test-3000-images-idx3-ubyte")),
            std::fs::read(dir.join("mnist-test-3000-labels-idx1-ubyte")),
        ) else {
            return;
        };
        let data = parse(&images, Some(&labels)).unwrap();
        assert_eq!((data.n_images, data.width, data.height), (3000, 28, 28));
    }

    /// One broken-file case: the bytes and a fragment the error must contain.
    fn check(images: &[u8], labels: Option<&[u8]>, fragment: &str) {
        let err = parse(images, labels).unwrap_err();
        assert!(err.contains(fragment), "{err:?} should mention {fragment:?}");
    }

    #[test]
    fn broken_files_are_errors() {
        let images = encode_images(&[1, 2, 3, 4], 1, 2, 2);
        check(&images[..3], None, "too short");
        check(&[1, 0, 8, 3, 0, 0, 0, 0], None, "not an IDX file");
        check(&[0, 0, 0x0d, 3], None, "element type 0x0d");
        check(&encode_labels(&[1]), None, "has 1 dimensions, expected 3");
        check(&images[..10], None, "truncated IDX header");
        check(&images[..images.len() - 1], None, "promises 4 bytes");
        check(&images, Some(&encode_labels(&[1, 2])), "2 labels for 1 images");
        check(&[0x1f, 0x8b, 1, 2, 3], None, "not a valid gzip stream");
        check(&gzip(&images)[..20], None, "gzip");
        for cut in 0..images.len() {
            assert!(parse(&images[..cut], None).is_err());
        }
    }

    /// Hostile gzip: a header declaring 100,000 images of 1000×1000 is refused before anything
    /// is inflated, and a small image whose stream runs on for 64 MB of zeros stops one byte
    /// past what its header promised.
    #[test]
    fn gzip_inflates_only_what_the_header_promises_and_the_budget_allows() {
        let mut huge = vec![0, 0, 8, 3];
        for dim in [100_000u32, 1000, 1000] {
            huge.extend_from_slice(&dim.to_be_bytes());
        }
        check(&gzip(&huge), None, "images file would take 372.5 GB of memory");
        let mut bomb = encode_images(&[1, 2, 3, 4], 1, 2, 2);
        bomb.resize(64 << 20, 0);
        let packed = gzip(&bomb);
        assert!(packed.len() < 100_000, "{} bytes", packed.len());
        check(&packed, None, "promises 4 bytes of data ([1, 2, 2]) but 5 follow");
    }
}
