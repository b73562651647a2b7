//! The wasm's exports: [`super::step`] and [`Grant::call`] as plain C functions over the
//! wasm's memory, called by `src/api/core.js`.
//!
//! Why not wasm-bindgen: the whole interface is two functions from text to text and one
//! object. wasm-bindgen's generated JS glue, its externref table, the `Rc<RefCell>` it
//! wraps an exported struct in and its string shims cost 2.6 KB gz of the package
//! (wasm 1.6 KB, JS 1.0 KB, measured), and its CLI, which must match the crate byte for
//! byte, took 2.5-4 minutes to build on every fresh machine. These functions, the calls
//! in `src/api/core.js` and the loader in `src/browser/wasm.js` do the same.
//!
//! The calling convention:
//! - The JS side asks [`alloc`] for one buffer per input, writes the input there (UTF-8
//!   text or raw bytes) and passes `(pointer, length)`. The callee takes the buffers over
//!   and frees them.
//! - A call returns the length of its answer (JSON text); [`answer`] gives its address.
//!   The answer lives in the wasm's memory until the next call, so the JS side decodes it
//!   at once. The module is single-threaded (no `atomics`, see `lib.rs`): calls never
//!   overlap.
//! - A grant is a pointer from [`grant_new`], given back to [`grant_call`] and, once,
//!   to [`grant_free`]; the JS side forgets it on freeing (and a null one is refused).

use super::{answer, step, Grant};
use crate::prelude::*;
use crate::protocol::{text, Error, ErrorCode};
use alloc::alloc::{alloc as allocate, Layout};
use core::cell::UnsafeCell;

/// The answer of the last call (see the module documentation).
struct LastAnswer(UnsafeCell<String>);

// SAFETY: the wasm is single-threaded (see the module documentation).
unsafe impl Sync for LastAnswer {}

static LAST_ANSWER: LastAnswer = LastAnswer(UnsafeCell::new(String::new()));

fn keep(text: String) -> usize {
    let len = text.len();
    // SAFETY: single-threaded, and no reference to the old answer outlives this call
    // (the JS side copies an answer out before the next call).
    unsafe { *LAST_ANSWER.0.get() = text };
    len
}

/// A buffer of `len` bytes for an input (its owner is the call it is passed to); null
/// when the memory cannot grow, which the JS side checks.
#[export_name = "alloc"]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    match Layout::array::<u8>(len) {
        // A zero-sized allocation is not allowed: any non-null pointer will do.
        Ok(_) if len == 0 => core::ptr::NonNull::dangling().as_ptr(),
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { allocate(layout) },
        Err(_) => core::ptr::null_mut(),
    }
}

/// The address of the last call's answer.
#[export_name = "answer"]
pub extern "C" fn answer_ptr() -> *const u8 {
    // SAFETY: single-threaded; the pointer is read, not kept, by the JS side.
    unsafe { (*LAST_ANSWER.0.get()).as_ptr() }
}

/// Takes over an input buffer from [`alloc`].
///
/// # Safety
/// `ptr` and `len` are those of one `alloc(len)`, written by the JS side and not used
/// again.
unsafe fn bytes(ptr: *mut u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    Vec::from_raw_parts(ptr, len, len)
}

/// An input buffer as text. The JS side writes it with `TextEncoder`, which never
/// writes invalid UTF-8; should anything else, the text reads as empty, which every step
/// refuses.
///
/// # Safety
/// As for [`bytes`].
unsafe fn text_of(ptr: *mut u8, len: usize) -> String {
    text::utf8(&bytes(ptr, len), false).unwrap_or_default()
}

/// [`super::step`]: `name`, `args` (JSON text) and `bytes`; answers JSON text.
///
/// # Safety
/// Each `(pointer, length)` pair is one buffer from [`alloc`] (see [`bytes`]).
#[export_name = "step"]
pub unsafe extern "C" fn step_export(
    name: *mut u8,
    name_len: usize,
    args: *mut u8,
    args_len: usize,
    data: *mut u8,
    data_len: usize,
) -> usize {
    let name = text_of(name, name_len);
    let args = text_of(args, args_len);
    keep(step(&name, &args, &bytes(data, data_len)))
}

/// A new, empty grant (its `launch` step fills it).
#[export_name = "grant_new"]
pub extern "C" fn grant_new() -> *mut Grant {
    Box::into_raw(Box::new(Grant::new()))
}

/// [`Grant::call`] on `grant`: `name` and `args` (JSON text); answers JSON text.
///
/// # Safety
/// `grant` is null or from [`grant_new`] and not yet freed; the buffers are as for
/// [`step_export`].
#[export_name = "grant_call"]
pub unsafe extern "C" fn grant_call(
    grant: *mut Grant,
    name: *mut u8,
    name_len: usize,
    args: *mut u8,
    args_len: usize,
) -> usize {
    let name = text_of(name, name_len);
    let args = text_of(args, args_len);
    keep(match grant.as_mut() {
        Some(grant) => grant.call(&name, &args),
        None => answer(Err(Error::new(ErrorCode::SessionEnded))),
    })
}

/// Frees a grant, wiping its tokens with it.
///
/// # Safety
/// `grant` is null or from [`grant_new`] and not yet freed.
#[export_name = "grant_free"]
pub unsafe extern "C" fn grant_free(grant: *mut Grant) {
    if !grant.is_null() {
        drop(Box::from_raw(grant));
    }
}
