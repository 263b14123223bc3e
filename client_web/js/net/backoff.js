// Reconnect delays: exponential backoff with jitter (PROTOCOL.md §9: "0.5 s doubling to 30 s,
// with jitter"). Pure.

export const BACKOFF_BASE_MS = 500; // the first retry comes quickly: most cuts are short
export const BACKOFF_MAX_MS = 30_000; // a dead server is probed twice a minute, not hammered

/**
 * The delay before reconnection attempt number `attempt` (0 for the first retry after a loss).
 *
 * "Equal jitter": half of the exponential step is fixed, the other half random, so a thousand
 * clients cut by the same server restart spread their reconnects over the window instead of
 * arriving together, while no single client retries sooner than half the step.
 *
 * @param {number} attempt 0, 1, 2, …
 * @param {() => number} random a uniform source in [0, 1) (Math.random; injectable for tests)
 * @param {{baseMs?: number, maxMs?: number}} [opts]
 * @returns {number} whole milliseconds, between step/2 and step where step = min(max, base·2^attempt)
 */
export function backoffDelay(attempt, random = Math.random, opts = {}) {
  const base = opts.baseMs ?? BACKOFF_BASE_MS;
  const max = opts.maxMs ?? BACKOFF_MAX_MS;
  const n = Math.max(0, Math.min(attempt, 30)); // 2^30·base is far past any max: no overflow
  const step = Math.min(max, base * 2 ** n);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(step / 2 + (step / 2) * r);
}
