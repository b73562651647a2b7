//! smart-launch: a SMART App Launch 2.2 client for the browser.
//!
//! `protocol` is the sans-IO core and `session` the token timing policy (pure, natively
//! tested); `steps` is what the wasm exports: each step as a function of strings and
//! numbers, called by the JS API (`src/api/*.js`), which carries out the browser
//! effects (`src/browser/*.js`). See README.md "Layout".
//!
//! On `wasm32` the crate is `no_std` (with `alloc`): std's panic machinery formats every
//! panic message, which links `core::fmt` and its tables whether or not a panic ever
//! happens. Here a panic traps at once (`panic = "abort"` did the same, after trying to
//! print), which saves about 2 KB gz (std's panic hook and its printing). Natively it is
//! plain std.
#![cfg_attr(target_arch = "wasm32", no_std)]
// `&s[a..b]` on a str links `core::fmt` (its failure path formats the message): ~5 KB gz
// of wasm. Use `protocol::text::sub` / `text::split_at`. Tests may index freely.
#![cfg_attr(not(test), deny(clippy::string_slice))]

extern crate alloc;

pub mod protocol;
pub mod session;
pub mod steps;

/// The names std's prelude would bring, taken from `alloc` so that the same code builds
/// with and without std.
#[allow(unused_imports)]
pub(crate) mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

/// A `no_std` crate must bring its own allocator: `heap`'s size classes, smaller than
/// talc or dlmalloc (its module documentation has the numbers and what it gives up).
/// Single-threaded only: a threaded build (`+atomics`) has no allocator and fails to
/// link.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod heap;

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static HEAP: heap::Heap = heap::Heap::new();

/// A panic is a bug: trap without formatting anything.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
