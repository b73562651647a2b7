// One-shot timers and the page events after which timers may have been late:
// background tabs throttle timers and a sleeping laptop stops them, so the session
// re-checks the wall clock on visibilitychange and focus (spec #66).

// The longest delay setTimeout honours (2^31 - 1 ms); longer ones fire at once.
const MAX_DELAY_MS = 0x7fffffff;

/** Calls `f` once after `delayMs`; returns the function that cancels it. A negative
 *  (or NaN) delay needs no clamp: setTimeout takes it as 0 (HTML), 7 B gz less. */
export function later(delayMs, f) {
  const id = setTimeout(f, Math.min(delayMs, MAX_DELAY_MS));
  return () => clearTimeout(id);
}

/** Calls `f` whenever the page becomes visible again or gains focus; returns the
 *  function that stops it. */
export function onWake(f) {
  document.addEventListener("visibilitychange", f);
  window.addEventListener("focus", f);
  return () => {
    document.removeEventListener("visibilitychange", f);
    window.removeEventListener("focus", f);
  };
}
