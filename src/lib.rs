//! smart-launch: a SMART App Launch 2.2 client for the browser.
//!
//! `protocol` is the sans-IO core (pure, natively tested). The browser glue and the JS
//! API are compiled only for `wasm32`; see DESIGN.md for the layering.
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

// The browser layer and the JS API; without the `browser` feature the wasm holds the
// protocol core only (`make size-floor` measures it that way).
#[cfg(all(target_arch = "wasm32", feature = "browser"))]
pub mod browser;
#[cfg(all(target_arch = "wasm32", feature = "browser"))]
mod launch;

#[cfg(all(target_arch = "wasm32", feature = "browser"))]
pub mod api;

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

/// Page-lifetime state (`no_std` has no `thread_local!`): a `RefCell` in a `static`.
#[cfg(all(target_arch = "wasm32", feature = "browser"))]
pub(crate) struct PageCell<T>(core::cell::RefCell<T>);

// SAFETY: wasm32 without the `atomics` feature runs on one thread only, so the cell is
// never reached from two threads; a threaded build (`+atomics`) fails to compile here.
#[cfg(all(
    target_arch = "wasm32",
    feature = "browser",
    not(target_feature = "atomics")
))]
unsafe impl<T> Sync for PageCell<T> {}

#[cfg(all(target_arch = "wasm32", feature = "browser"))]
impl<T> PageCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        PageCell(core::cell::RefCell::new(value))
    }

    /// Runs `f` on the value (the shape of `LocalKey::with`).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&core::cell::RefCell<T>) -> R) -> R {
        f(&self.0)
    }
}

/// A `no_std` crate must bring its own allocator: talc, ~2 KB gz smaller than the
/// dlmalloc std would use (Cargo.toml has the numbers). Single-threaded only, which the
/// `Sync` impl above already requires.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A panic is a bug: trap without formatting anything. The browser tests link std
/// (through wasm-bindgen-test), which brings its own handler; they enable `std`.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
