//! The wasm's allocator: size classes of powers of two, each with its free list, carved
//! from the top of the heap, which grows the memory when it runs out.
//!
//! Why hand-written (the guide prefers a kept crate unless the size budget says
//! otherwise; it does): talc, the smallest general allocator measured, cost 417 B gz
//! more of the package than this (29,536 against 29,119 B gz of wasm), and dlmalloc ~2 KB
//! more again. What this one gives up for it:
//! - Blocks are never split or merged: a request takes a block of the next power of two
//!   (at least 16 bytes), so a block may be up to twice as large as asked. The heap of a
//!   session is a few KB of tokens and documents, so that is a few KB.
//! - A freed block serves only its own class. Memory therefore grows to the largest
//!   number of blocks of each class live at once, and then stays there: a session repeats
//!   the same steps (tick, refresh, request), so it reaches that plateau early. The bench
//!   (`make bench`) watches the memory over 2,000 calls.
//! - Alignments above 16 are refused (a trap): nothing in this crate
//!   asks for one. With 16-byte blocks at the least, every block starts on a multiple of
//!   16, and no gap is ever left between blocks.
//!
//! Single-threaded only, like the rest of the wasm (see `steps/abi.rs`): `lib.rs` uses it
//! only without `atomics`.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::ptr::null_mut;

const PAGE: usize = 65536;
/// The smallest block: 16 bytes, the largest alignment served.
const MIN_CLASS: u32 = 4;

pub struct Heap(UnsafeCell<State>);

struct State {
    /// The first free block of each class (block size `1 << class`), or null; a free
    /// block holds the address of the next one in its first word.
    free: [*mut u8; usize::BITS as usize],
    /// The free memory above every block handed out so far: `[top, end)`. `top == 0`
    /// until the first allocation.
    top: usize,
    end: usize,
}

// SAFETY: the wasm is single-threaded (the module documentation).
unsafe impl Sync for Heap {}

impl Heap {
    pub const fn new() -> Heap {
        Heap(UnsafeCell::new(State {
            free: [null_mut(); usize::BITS as usize],
            top: 0,
            end: 0,
        }))
    }
}

/// The class of a size: the power of two of its block, at least `MIN_CLASS`; 32, which
/// has no free list, for a size above half the address space. The size is never 0
/// (`GlobalAlloc`'s contract; 0 would come out as 32 too). A bit count, not
/// `checked_next_power_of_two` in an `Option`, and the alignment checked apart, in
/// `alloc` only (42 B gz).
// Out of line: alloc, dealloc and realloc (twice) each inlined their own copy (32 B gz).
#[inline(never)]
fn class(size: usize) -> usize {
    (usize::BITS - size.wrapping_sub(1).leading_zeros()).max(MIN_CLASS) as usize
}

/// A request this allocator refuses by design (an alignment above 16; a size past every
/// class, which no `Layout` has) traps here: a null pointer trapped too, later, in the
/// alloc error handler, and trapping at once left the null answers out. Running out of
/// memory still answers null: `abi::input`'s `try_reserve_exact` turns that into a null
/// buffer, which the JS side reports.
#[cold]
fn refuse() -> ! {
    wasm32::unreachable()
}

extern "C" {
    /// The end of the data and stack: where the heap starts (set by the linker).
    static __heap_base: u8;
}

impl State {
    /// A block of `1 << class` bytes from the top of the heap, growing the memory if
    /// the top has no room.
    fn carve(&mut self, class: usize) -> *mut u8 {
        if self.top == 0 {
            // Only the address of the linker's symbol is taken, never its value.
            let base = core::ptr::addr_of!(__heap_base) as usize;
            self.top = (base + 15) & !15;
            self.end = wasm32::memory_size(0) * PAGE;
        }
        let size = 1usize << class;
        let Some(block_end) = self.top.checked_add(size) else {
            return null_mut();
        };
        if block_end > self.end {
            let pages = (block_end - self.end).div_ceil(PAGE);
            let before = wasm32::memory_grow(0, pages);
            if before == usize::MAX {
                return null_mut();
            }
            self.end = (before + pages) * PAGE;
        }
        let block = self.top as *mut u8;
        self.top = block_end;
        block
    }
}

unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded, and no allocator call runs inside another.
        let state = unsafe { &mut *self.0.get() };
        if layout.align() > 1 << MIN_CLASS {
            refuse()
        }
        let class = class(layout.size());
        let Some(head) = state.free.get_mut(class) else {
            refuse()
        };
        let block = *head;
        if block.is_null() {
            return state.carve(class);
        }
        // SAFETY: a block on a free list holds the next block's address (`dealloc`).
        *head = unsafe { block.cast::<*mut u8>().read() };
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`.
        let state = unsafe { &mut *self.0.get() };
        // The layout is the one the block was allocated with, so its class exists.
        if let Some(head) = state.free.get_mut(class(layout.size())) {
            // SAFETY: the block is at least 16 bytes, 16-aligned, and no longer in use.
            unsafe { block.cast::<*mut u8>().write(*head) };
            *head = block;
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if class(new_size) == class(layout.size()) {
            // The block has the room already.
            return block;
        }
        // SAFETY: the caller's promise: `new_size` with the same alignment is a layout,
        // of a non-zero size.
        let moved =
            unsafe { self.alloc(Layout::from_size_align_unchecked(new_size, layout.align())) };
        if !moved.is_null() {
            // SAFETY: both blocks hold at least the smaller size, and they are distinct.
            unsafe {
                core::ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
        }
        moved
    }
}
