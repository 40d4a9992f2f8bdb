//! Standard IDX files (MNIST, Fashion-MNIST, EMNIST): `idx3-ubyte` images and `idx1-ubyte`
//! labels, plain or gzip-compressed. Header: two zero bytes, a type byte (0x08 = u8), the number
//! of dimensions, then each dimension as a big-endian u32; the data follows row-major.

use std::io::Read;

use super::dataset::Dataset;

/// Refuse to inflate more than this, so a hostile gzip cannot exhaust memory.
const MAX_INFLATED: u64 = 1 << 30;

/// Undo gzip if the bytes start with its magic number; otherwise borrow them as they are.
fn maybe_gunzip<'a>(bytes: &'a [u8], what: &str) -> Result<std::borrow::Cow<'a, [u8]>, String> {
    if bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_INFLATED)
            .read_to_end(&mut out)
            .map_err(|e| format!("{what}: not a valid gzip stream ({e})"))?;
        Ok(out.into())
    } else {
        Ok(bytes.into())
    }
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
    if bytes.len() < header_len {
        return Err(format!("{what}: truncated IDX header"));
    }
    let dims: Vec<usize> = (0..n_dims as usize)
        .map(|d| u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().expect("4 bytes")) as usize)
        .collect();
    let body_len = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or(format!("{what}: dimensions overflow"))?;
    let body = &bytes[header_len..];
    if body.len() != body_len {
        return Err(format!("{what}: header promises {body_len} bytes of data ({dims:?}) but {} follow", body.len()));
    }
    Ok((dims, body))
}

/// Parse an images file, and optionally its labels file, into a dataset with values in [0, 1].
pub fn parse(images: &[u8], labels: Option<&[u8]>) -> Result<Dataset, String> {
    let images = maybe_gunzip(images, "images file")?;
    let (dims, body) = parse_header(&images, 3, "images file")?;
    let (n_images, rows, cols) = (dims[0], dims[1], dims[2]);
    if n_images == 0 || rows == 0 || cols == 0 {
        return Err(format!("images file: empty ({n_images} images of {rows}x{cols})"));
    }
    let labels = match labels {
        None => None,
        Some(bytes) => {
            let bytes = maybe_gunzip(bytes, "labels file")?;
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
}
