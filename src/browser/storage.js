// The transaction record in sessionStorage: the only thing that crosses the redirect
// (spec #32, #73). One key per pending authorization, named by its state, so several
// launches (several clients, several servers) never collide.
import { SmartError } from "../js/smart_error.js";

const PREFIX = "smart-launch:tx:";

// Any failure (no storage, a sandboxed frame, a full quota) is storage_unavailable.
function withStorage(use) {
  try {
    const storage = window.sessionStorage;
    if (storage) return use(storage);
  } catch {}
  throw new SmartError("storage_unavailable");
}

/** Stores a record under its state. */
export const save = (state, record) => withStorage((s) => s.setItem(PREFIX + state, record));

/** The record of `state`, or undefined (the caller removes it: single use, spec #32). */
export const get = (state) => withStorage((s) => s.getItem(PREFIX + state) ?? undefined);

/** Deletes the record of `state`, if any. */
export const remove = (state) => withStorage((s) => s.removeItem(PREFIX + state));

/** Every pending record, as [state, record] pairs. */
export const pending = () =>
  withStorage((s) => {
    const out = [];
    for (let i = 0; i < s.length; i++) {
      const key = s.key(i);
      const value = key?.startsWith(PREFIX) ? s.getItem(key) : null;
      if (value !== null) out.push([key.slice(PREFIX.length), value]);
    }
    return out;
  });
