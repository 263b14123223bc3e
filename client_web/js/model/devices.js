// A session's device as people name it, from its User-Agent: "Firefox on Linux", "Safari on
// iPhone", "chatd CLI token". Pure; the rules are rough on purpose (a label, not a fingerprint).

const BROWSERS = [
  [/Edg\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrom(e|ium)\//, 'Chrome'],
  [/Version\/[\d.]+.*Safari\//, 'Safari'],
  [/AppleWebKit\//, 'a WebKit browser'],
];
const SYSTEMS = [
  [/iPhone/, 'iPhone'],
  [/iPad/, 'iPad'],
  [/Android/, 'Android'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/** "Browser on System" for `userAgent`; `kind` "api" is an API token. */
export function deviceOf(userAgent, kind = 'web') {
  if (kind === 'api') return 'API token';
  const ua = String(userAgent ?? '');
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1];
  const system = SYSTEMS.find(([re]) => re.test(ua))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? (ua ? ua.slice(0, 60) : 'Unknown device');
}
