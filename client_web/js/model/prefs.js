// What the user chose and where they were, kept across reloads: favourite channels, recently
// opened ones, the last open one (per user), and the colour theme (per browser). Pure over a
// Store / a localStorage-like backend.

import { touchRecent } from './channel-list.js';

export const THEMES = ['auto', 'light', 'dark'];
const THEME_KEY = 'chatd:theme';

/** The stored theme ("auto" when none, or when storage is unusable). */
export function loadTheme(backend) {
  try {
    const t = backend?.getItem(THEME_KEY);
    return THEMES.includes(t) ? t : 'auto';
  } catch {
    return 'auto';
  }
}

/** Remember `theme`; false if it could not be persisted (it still applies to this page). */
export function saveTheme(backend, theme) {
  try {
    backend?.setItem(THEME_KEY, theme);
    return !!backend;
  } catch {
    return false;
  }
}

/** The theme after `theme` in THEMES' order. */
export function nextTheme(theme) {
  return THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
}

export class Prefs {
  /** @param {import('./storage.js').Store} store the user's store */
  constructor(store) {
    this.store = store;
    const favs = store.get('favourites', []);
    /** @type {Set<number>} */
    this.favourites = new Set(Array.isArray(favs) ? favs.filter(Number.isSafeInteger) : []);
    const recent = store.get('recent', []);
    /** @type {number[]} most recently opened first */
    this.recent = Array.isArray(recent) ? recent.filter(Number.isSafeInteger) : [];
  }

  isFavourite(ch) {
    return this.favourites.has(ch);
  }

  /** Star or unstar ch; returns whether it is a favourite now. */
  toggleFavourite(ch) {
    if (this.favourites.has(ch)) this.favourites.delete(ch);
    else this.favourites.add(ch);
    this.store.set('favourites', [...this.favourites]);
    return this.favourites.has(ch);
  }

  /** ch was opened: it becomes the most recent, and the one to open after a reload. */
  opened(ch) {
    this.recent = touchRecent(this.recent, ch);
    this.store.set('recent', this.recent);
    this.store.set('active', ch);
  }

  /** The channel open before the reload, if any. */
  lastOpened() {
    const stored = this.store.get('active', null);
    return Number.isSafeInteger(stored) ? stored : null;
  }
}
