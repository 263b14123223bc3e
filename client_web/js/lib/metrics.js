// Bytes and timings of the page's first load, from the Navigation and Resource Timing APIs, and
// the "chatd:usable" mark (the first channel's messages shown, the message box enabled).

export function loadMetrics() {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const entries = nav ? [nav, ...resources] : resources;
  const sum = (key) => entries.reduce((n, e) => n + (e[key] || 0), 0);
  const usable = performance.getEntriesByName('chatd:usable')[0];
  return {
    usableMs: usable ? Math.round(usable.startTime) : null,
    domContentLoadedMs: nav ? Math.round(nav.domContentLoadedEventEnd) : null,
    requests: entries.length,
    transferBytes: sum('transferSize'),
    encodedBytes: sum('encodedBodySize'),
    decodedBytes: sum('decodedBodySize'),
    files: entries.map((e) => ({ name: e.name.replace(location.origin, ''), transfer: e.transferSize || 0, encoded: e.encodedBodySize || 0 })),
  };
}
