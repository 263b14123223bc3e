// The sidebar's channel sections, its filter, and the Ctrl/Cmd+K switcher's ranking. Pure.

import { unreadOf } from './unread.js';

/** Below this many channels a "Recent" section only repeats what is already in view. */
export const RECENT_MIN_CHANNELS = 9;
export const RECENT_MAX = 5;

/**
 * A string folded for matching: compatibility-normalised, accents removed, case-folded
 * ("Café" and "cafe" match; "ＡＢＣ" and "abc" match).
 */
export function fold(s) {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** Channels sorted by name, as a person reads them (case- and accent-insensitive, 2 < 10). */
export function sortByName(channels) {
  return [...channels].sort((a, b) => collator.compare(a.name, b.name) || a.id - b.id);
}

/**
 * How well `query` matches `name`: 0 exact, 1 prefix, 2 start of a word, 3 substring,
 * 4 letters in order (a subsequence), or -1 for no match. Both are folded first.
 */
export function matchScore(name, query) {
  const n = fold(name);
  const q = fold(query.trim().replace(/^#/, ''));
  if (!q) return 3;
  if (n === q) return 0;
  if (n.startsWith(q)) return 1;
  const at = n.indexOf(q);
  if (at > 0) return /[\s\-_./]/u.test(n[at - 1]) ? 2 : 3;
  let i = 0;
  for (const c of n) {
    if (c === q[i]) i++;
    if (i === q.length) return 4;
  }
  return -1;
}

/**
 * Record a visit to `ch` in the recent list (most recent first, at most `max`).
 * @returns {number[]} a new array
 */
export function touchRecent(recent, ch, max = RECENT_MAX * 2) {
  return [ch, ...recent.filter((x) => x !== ch)].slice(0, max);
}

/**
 * The sidebar's sections.
 *
 * Without a filter: "Favourites" (starred, by name), "Recent" (up to RECENT_MAX visited lately,
 * not starred; only when there are many channels), "Channels" (the others, by name) and "Direct
 * messages" (conversations not starred, by name). Every channel appears exactly once. With a
 * filter: one "Matches" section, best matches first.
 *
 * @param {object} p
 * @param {Array<{id:number,name:string}>} p.channels
 * @param {Set<number>} p.favourites
 * @param {number[]} p.recent channel ids, most recent first
 * @param {string} [p.filter]
 * @returns {Array<{id: string, title: string, items: Array<object>}>} empty sections left out
 */
export function sidebarSections({ channels, favourites, recent, filter = '' }) {
  if (filter.trim()) {
    const scored = [];
    for (const c of channels) {
      const score = matchScore(c.name, filter);
      if (score >= 0 && score < 4) scored.push([score, c]);
    }
    scored.sort((a, b) => a[0] - b[0] || collator.compare(a[1].name, b[1].name));
    return [{ id: 'matches', title: 'Matches', items: scored.map((x) => x[1]) }].filter((s) => s.items.length);
  }
  const byId = new Map(channels.map((c) => [c.id, c]));
  const favs = sortByName(channels.filter((c) => favourites.has(c.id)));
  const dms = sortByName(channels.filter((c) => c.dm && !favourites.has(c.id)));
  const rest = channels.filter((c) => !favourites.has(c.id) && !c.dm);
  let recents = [];
  if (rest.length >= RECENT_MIN_CHANNELS) {
    recents = recent
      .map((id) => byId.get(id))
      .filter((c) => c && !favourites.has(c.id))
      .slice(0, RECENT_MAX);
  }
  const inRecent = new Set(recents.map((c) => c.id));
  const others = sortByName(rest.filter((c) => !inRecent.has(c.id)));
  return [
    { id: 'favourites', title: 'Favourites', items: favs },
    { id: 'recent', title: 'Recent', items: recents },
    { id: 'channels', title: 'Channels', items: others },
    { id: 'dms', title: 'Direct messages', items: dms },
  ].filter((s) => s.items.length);
}

/**
 * The switcher's list for `query`: with a query, best match first (ties: unread, then recent,
 * then name); without one, recent channels first, then unread ones, then the rest by name.
 */
export function rankForSwitcher(channels, query, recent = []) {
  const recency = new Map(recent.map((id, i) => [id, i]));
  const rec = (c) => (recency.has(c.id) ? recency.get(c.id) : Infinity);
  const scored = [];
  for (const c of channels) {
    const score = query.trim() ? matchScore(c.name, query) : 0;
    if (score >= 0) scored.push([score, c]);
  }
  scored.sort(
    (a, b) =>
      a[0] - b[0] ||
      (rec(a[1]) === rec(b[1]) ? 0 : rec(a[1]) < rec(b[1]) ? -1 : 1) ||
      (unreadOf(b[1]) > 0) - (unreadOf(a[1]) > 0) ||
      collator.compare(a[1].name, b[1].name),
  );
  return scored.map((x) => x[1]);
}
