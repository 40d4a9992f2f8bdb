//! A set of images in [0, 1] with optional labels, the fixed train/validation split of the
//! built-in digits, and minibatch gathering. A set can still be arriving (the page trains on the
//! built-in digits' first part while the rest downloads); what the first epoch trains on is part
//! of the set, so a seeded run is the same however fast its images came.

#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub width: usize,
    pub height: usize,
    pub n_images: usize,
    pub pixels: Vec<f32>, // (n_images, width * height), 0 = background, 1 = ink
    pub labels: Option<Vec<u8>>,
    /// The leading images a run's first epoch trains on (all of them unless the set says
    /// otherwise: the built-in digits' first 1,000, which the page has first). Later epochs
    /// train on every image.
    pub first_part: usize,
    /// More images of this set are on their way (only the first ones are here yet): training
    /// may take its first epoch, not more.
    pub arriving: bool,
}

impl Dataset {
    pub fn new(width: usize, height: usize, pixels: Vec<f32>, labels: Option<Vec<u8>>) -> Dataset {
        let n_images = pixels.len() / (width * height);
        assert_eq!(pixels.len(), n_images * width * height);
        if let Some(labels) = &labels {
            assert_eq!(labels.len(), n_images);
        }
        Dataset { width, height, n_images, pixels, labels, first_part: n_images, arriving: false }
    }

    /// This set with its first epoch on its first `count` images (all of them if fewer).
    pub fn with_first_part(mut self, count: usize) -> Dataset {
        self.first_part = count.min(self.n_images);
        self
    }

    /// The first `count` images, as a page has them while the rest are arriving.
    pub fn first_images(&self, count: usize) -> Dataset {
        let count = count.min(self.n_images);
        let mut part = self.subset(&(0..count).collect::<Vec<_>>());
        part.arriving = self.arriving || count < self.n_images;
        part
    }

    /// How many images a run's epoch number `epoch` trains on.
    pub fn epoch_len(&self, epoch: u64) -> usize {
        if epoch == 0 && self.first_part > 0 {
            self.first_part
        } else {
            self.n_images
        }
    }

    pub fn n_pixels(&self) -> usize {
        self.width * self.height
    }

    pub fn image(&self, image_idx: usize) -> &[f32] {
        let n = self.n_pixels();
        &self.pixels[image_idx * n..(image_idx + 1) * n]
    }

    /// The images at `indices`, in order. Its first part is the leading indices that lie in
    /// this set's first part (for ascending indices, those of the first part); it is arriving
    /// when this set is.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let pixels = indices.iter().flat_map(|&i| self.image(i).iter().copied()).collect();
        let labels = self.labels.as_ref().map(|l| indices.iter().map(|&i| l[i]).collect());
        let mut subset = Dataset::new(self.width, self.height, pixels, labels);
        subset.first_part = indices.iter().take_while(|&&i| i < self.first_part).count();
        subset.arriving = self.arriving;
        subset
    }

    /// `count` images spread evenly over the set (so over the classes of class-ordered digits).
    pub fn spread(&self, count: usize) -> Dataset {
        let count = count.clamp(1, self.n_images.max(1));
        self.subset(&(0..count).map(|k| k * self.n_images / count).collect::<Vec<_>>())
    }

    /// The fixed split of the built-in digits: image i goes to validation when i % 10 == 9,
    /// otherwise to training. The asset stores the digits class by class, so each class gives
    /// a tenth of its images: 9,000 train and 1,000 validation for the 10,000 built-in digits.
    pub fn split(&self) -> (Dataset, Dataset) {
        let (valid, train): (Vec<usize>, Vec<usize>) = (0..self.n_images).partition(|i| i % 10 == 9);
        (self.subset(&train), self.subset(&valid))
    }

    /// Copy the images at `indices` into `out` (indices.len(), n_pixels).
    pub fn gather(&self, indices: &[u32], out: &mut Vec<f32>) {
        out.clear();
        for &i in indices {
            out.extend_from_slice(self.image(i as usize));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_fixed_and_complete() {
        let n = 100;
        let pixels: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i / 10) as u8).collect();
        let data = Dataset::new(1, 1, pixels, Some(labels));
        let (train, valid) = data.split();
        assert_eq!((train.n_images, valid.n_images), (90, 10));
        assert_eq!(valid.pixels, (0..10).map(|k| (10 * k + 9) as f32).collect::<Vec<_>>());
        // One validation image from each class of ten.
        assert_eq!(valid.labels.unwrap(), (0..10).collect::<Vec<u8>>());
        assert_eq!(data.spread(4).pixels, vec![0.0, 25.0, 50.0, 75.0]);
        assert_eq!(data.spread(1000).n_images, 100, "never more than there are");
        let mut batch = Vec::new();
        train.gather(&[0, 9], &mut batch);
        assert_eq!(batch, vec![0.0, 10.0]);
    }

    /// The first part goes through the split and the first images the way the images do: the
    /// first 30 of 100 give the training set 27 and the validation set 3 (i % 10 == 9), and the
    /// first 50 images that have arrived split the same way, arriving.
    #[test]
    fn the_first_part_follows_the_split() {
        let data = Dataset::new(1, 1, (0..100).map(|i| i as f32).collect(), None).with_first_part(30);
        let (train, valid) = data.split();
        assert_eq!((train.first_part, valid.first_part), (27, 3));
        assert_eq!((train.epoch_len(0), train.epoch_len(1)), (27, 90));
        let here = data.first_images(50);
        assert!(here.arriving && !data.arriving);
        let (train_here, _) = here.split();
        assert_eq!((train_here.n_images, train_here.first_part, train_here.arriving), (45, 27, true));
        assert_eq!(train_here.pixels[..27], train.pixels[..27]);
        assert!(!data.first_images(100).arriving, "all of them is not arriving");
        assert_eq!(Dataset::new(1, 1, vec![], None).epoch_len(0), 0);
    }
}
