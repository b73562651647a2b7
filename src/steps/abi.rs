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
//! - The inputs of a call go, one after the other, into one buffer that the wasm keeps
//!   for the life of the page: [`input`] makes it at least as large as asked and gives
//!   its address; the JS side writes the UTF-8 text (`TextEncoder.encodeInto`) or bytes
//!   there and passes their lengths. Nothing is allocated per call on either side: a
//!   buffer per input (JS `encode()`, wasm `alloc`) made `request()` 0.4 ms slower in
//!   Chromium, measured (the garbage of many small ArrayBuffers).
//! - A call returns the length of its answer (JSON text); [`answer`] gives its address.
//!   The answer lives in the wasm's memory until the next call, so the JS side decodes it
//!   at once. The module is single-threaded (no `atomics`, see `lib.rs`): calls never
//!   overlap.
//! - A grant is a pointer from [`grant_new`], given back to [`grant_call`] and, once,
//!   to [`grant_free`]; the JS side forgets it on freeing (and a null one is refused).

use super::{answer, step, Grant};
use crate::prelude::*;
use crate::protocol::{text, Error, ErrorCode};
use alloc::borrow::Cow;
use core::cell::UnsafeCell;

/// A value of the module's single thread (see the module documentation).
struct Local<T>(UnsafeCell<T>);

// SAFETY: the wasm is single-threaded (see the module documentation).
unsafe impl<T> Sync for Local<T> {}

/// The inputs of the call being made.
static INPUT: Local<Vec<u8>> = Local(UnsafeCell::new(Vec::new()));
/// The answer of the last call.
static LAST_ANSWER: Local<String> = Local(UnsafeCell::new(String::new()));

/// The input buffer, at least `len` bytes long; null when the memory cannot grow, which
/// the JS side checks.
#[export_name = "input"]
pub extern "C" fn input(len: usize) -> *mut u8 {
    // SAFETY: single-threaded, and no call is running (the JS side calls this between
    // calls), so nothing else refers to the buffer.
    let buffer = unsafe { &mut *INPUT.0.get() };
    let old = buffer.len();
    if old < len {
        if buffer.try_reserve_exact(len - old).is_err() {
            return core::ptr::null_mut();
        }
        // Zeroed in one `memory.fill`, not by `resize`, which kept its own reserve and a
        // byte loop (44 B gz).
        // SAFETY: the capacity is at least `len` (reserved above), and the bytes from
        // `old` to `len` are written before the length covers them.
        unsafe {
            buffer.as_mut_ptr().add(old).write_bytes(0, len - old);
            buffer.set_len(len);
        }
    }
    buffer.as_mut_ptr()
}

/// The address of the last call's answer.
#[export_name = "answer"]
pub extern "C" fn answer_ptr() -> *const u8 {
    // SAFETY: single-threaded; the pointer is read, not kept, by the JS side.
    unsafe { (*LAST_ANSWER.0.get()).as_ptr() }
}

fn keep(text: String) -> usize {
    let len = text.len();
    // SAFETY: single-threaded, and no reference to the old answer outlives this call
    // (the JS side copies an answer out before the next call).
    unsafe { *LAST_ANSWER.0.get() = text };
    len
}

/// The inputs of this call: consecutive parts of the input buffer of the given lengths.
/// Lengths that overrun the buffer read as empty, which every step refuses.
struct Inputs {
    buffer: &'static [u8],
    at: usize,
}

impl Inputs {
    fn take() -> Inputs {
        // SAFETY: single-threaded; `input` (the only writer) is not called during a call.
        let buffer = unsafe { &*INPUT.0.get() };
        Inputs { buffer, at: 0 }
    }

    fn bytes(&mut self, len: usize) -> &'static [u8] {
        let end = self.at.saturating_add(len);
        let part = self.buffer.get(self.at..end).unwrap_or_default();
        self.at = end;
        part
    }

    /// The JS side writes with `TextEncoder`, which never writes invalid UTF-8; should
    /// anything else, the text reads as empty, which every step refuses. ASCII, nearly
    /// every input (JSON with a token response or a FHIR resource in it), is read in
    /// place: decoding it char by char cost `request()` more than the rest of its wasm
    /// work, measured.
    fn text(&mut self, len: usize) -> Cow<'static, str> {
        let bytes = self.bytes(len);
        // The bytes' bits OR-ed, a loop without an exit: `all(u8::is_ascii)` was 6 B gz
        // more, `<[u8]>::is_ascii` (word at a time) 59 B more.
        let mut high = 0;
        for &b in bytes {
            high |= b;
        }
        if high < 0x80 {
            // SAFETY: ASCII is UTF-8.
            Cow::Borrowed(unsafe { core::str::from_utf8_unchecked(bytes) })
        } else {
            Cow::Owned(text::utf8(bytes, false).unwrap_or_default())
        }
    }
}

/// [`super::step`]: its name, its arguments (JSON text) and its bytes, of these lengths
/// in the input buffer; answers JSON text.
#[export_name = "step"]
pub extern "C" fn step_export(name_len: usize, args_len: usize, data_len: usize) -> usize {
    let mut inputs = Inputs::take();
    let name = inputs.text(name_len);
    let args = inputs.text(args_len);
    keep(step(&name, &args, inputs.bytes(data_len)))
}

/// A new, empty grant (its `launch` step fills it).
#[export_name = "grant_new"]
pub extern "C" fn grant_new() -> *mut Grant {
    Box::into_raw(Box::new(Grant::new()))
}

/// [`Grant::call`] on `grant`: the step's name and arguments (JSON text), of these
/// lengths in the input buffer; answers JSON text.
///
/// # Safety
/// `grant` is null or from [`grant_new`] and not yet freed.
#[export_name = "grant_call"]
pub unsafe extern "C" fn grant_call(grant: *mut Grant, name_len: usize, args_len: usize) -> usize {
    let mut inputs = Inputs::take();
    let name = inputs.text(name_len);
    let args = inputs.text(args_len);
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
