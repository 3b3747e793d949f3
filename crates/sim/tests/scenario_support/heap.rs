//! Heap in use, counted by a global allocator that a memory scenario
//! installs in its own test binary:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: scenario_support::heap::Counting = scenario_support::heap::Counting;
//! ```
//!
//! The count is process-wide, so such a binary runs one measurement at a
//! time (nothing else may allocate meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

static IN_USE: AtomicIsize = AtomicIsize::new(0);

/// Bytes in use on the heap, by this process (0 without [`Counting`] installed).
pub fn in_use() -> isize {
    IN_USE.load(Ordering::Relaxed)
}

/// The system allocator, counting what is in use.
pub struct Counting;

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            IN_USE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}
