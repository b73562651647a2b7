// One-shot timers and the page events after which timers may have been late:
// background tabs throttle timers and a sleeping laptop stops them, so the session
// re-checks the wall clock on visibilitychange and focus (spec #66).

// The longest delay setTimeout honours (2^31 - 1 ms); longer ones fire at once.
const MAX_DELAY_MS = 0x7fffffff;

/** Calls `f` once after `delayMs`; returns the function that cancels it. The clamp at 0
 *  stays: setTimeout converts its delay to a 32-bit integer (WebIDL `long`) before HTML
 *  clamps negatives, so a delay below -2^31 ms (a wake time weeks in the past, after a
 *  long sleep) would wrap to a positive delay of days. */
export function later(delayMs, f) {
  const id = setTimeout(f, Math.min(Math.max(delayMs, 0), MAX_DELAY_MS));
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
