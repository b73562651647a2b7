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

/** The record of `state`, or null (the caller removes it: single use, spec #32). */
export const get = (state) => withStorage((s) => s.getItem(PREFIX + state));

/** Deletes the record of `state`, if any. */
export const remove = (state) => withStorage((s) => s.removeItem(PREFIX + state));

/** Every pending record, as [state, record] pairs. */
export const pending = () =>
  withStorage((s) =>
    // A Storage enumerates its keys as own properties (all but those named like a Storage
    // member, which ours are not); 20 B gz less than a key(i) loop.
    Object.keys(s)
      .filter((key) => key.startsWith(PREFIX))
      .map((key) => [key.slice(PREFIX.length), s.getItem(key)]),
  );
