//! Time, injected: the `Clock` a session, a trainer or a benchmark reads, and the two clocks
//! everything native uses — the wall clock (the CLI, benches, the soak run) and a manual clock
//! that only moves when told (tests and fuzzing, so budgets are deterministic). The page's
//! clock (`performance.now()`) lives in `web/`, the only place that may touch the browser.

use std::cell::Cell;
use std::rc::Rc;

/// A source of milliseconds from some fixed origin.
pub trait Clock {
    fn now_ms(&self) -> f64;
}

/// Milliseconds since it was made, from the operating system's monotonic clock (native only:
/// in a browser `std::time::Instant` has no clock behind it).
pub struct Wall(std::time::Instant);

impl Wall {
    pub fn new() -> Wall {
        Wall(std::time::Instant::now())
    }

    pub fn boxed() -> Box<dyn Clock> {
        Box::new(Wall::new())
    }
}

impl Default for Wall {
    fn default() -> Wall {
        Wall::new()
    }
}

impl Clock for Wall {
    fn now_ms(&self) -> f64 {
        self.0.elapsed().as_secs_f64() * 1000.0
    }
}

/// A clock that stands where it is set and moves `per_read` ms each time it is read (0: it
/// stands still). Clones share one time, so a test can hold a handle to the clock it gave a
/// session and move it by hand.
#[derive(Clone, Debug, Default)]
pub struct Manual {
    now: Rc<Cell<f64>>,
    per_read: f64,
}

impl Manual {
    /// Standing still at `at` ms.
    pub fn at(at: f64) -> Manual {
        Manual { now: Rc::new(Cell::new(at)), per_read: 0.0 }
    }

    /// From 0 ms, moving `per_read` ms at every read.
    pub fn ticking(per_read: f64) -> Manual {
        Manual { now: Rc::new(Cell::new(0.0)), per_read }
    }

    pub fn boxed(&self) -> Box<dyn Clock> {
        Box::new(self.clone())
    }

    /// The time, without moving it.
    pub fn get(&self) -> f64 {
        self.now.get()
    }

    pub fn set(&self, ms: f64) {
        self.now.set(ms);
    }

    pub fn advance(&self, ms: f64) {
        self.now.set(self.now.get() + ms);
    }
}

impl Clock for Manual {
    fn now_ms(&self) -> f64 {
        let t = self.now.get();
        self.now.set(t + self.per_read);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_as_told_and_its_clones_share_the_time() {
        let still = Manual::at(5.0);
        assert_eq!((still.now_ms(), still.now_ms()), (5.0, 5.0));
        let handle = still.clone();
        handle.advance(2.5);
        assert_eq!(still.now_ms(), 7.5);
        let ticking = Manual::ticking(0.5);
        assert_eq!([ticking.now_ms(), ticking.now_ms(), ticking.get()], [0.0, 0.5, 1.0]);
    }

    #[test]
    fn the_wall_clock_never_goes_back() {
        let wall = Wall::new();
        let (a, b) = (wall.now_ms(), wall.now_ms());
        assert!(a >= 0.0 && b >= a);
    }
}
