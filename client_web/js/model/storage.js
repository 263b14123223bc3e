// Small persistent key/value store over a localStorage-like backend, JSON values, one namespace
// per user. Storage can be missing (privacy modes), full (quota) or disabled: every operation
// then degrades to "not persisted" instead of throwing into the UI.

/** localStorage if usable, else null. */
export function browserStorage() {
  try {
    const s = globalThis.localStorage;
    const probe = '__chatd_probe__';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}

/** A backend that keeps values in memory only (used when localStorage is unavailable). */
export class MemoryBackend {
  constructor() {
    this.map = new Map();
  }
  get length() {
    return this.map.size;
  }
  key(i) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
}

export class Store {
  /**
   * @param {Storage|MemoryBackend|null} backend localStorage or a stand-in; null → memory
   * @param {string} prefix namespace, e.g. "chatd:v1:u7:"
   */
  constructor(backend, prefix) {
    this.backend = backend ?? new MemoryBackend();
    this.prefix = prefix;
  }

  /** The parsed value of `key`, or `fallback` when absent or unreadable. */
  get(key, fallback = null) {
    let raw;
    try {
      raw = this.backend.getItem(this.prefix + key);
    } catch {
      return fallback;
    }
    if (raw === null || raw === undefined) return fallback;
    try {
      return JSON.parse(raw);
    } catch {
      return fallback;
    }
  }

  /** Store `value` (JSON); returns false if it could not be persisted. */
  set(key, value) {
    try {
      this.backend.setItem(this.prefix + key, JSON.stringify(value));
      return true;
    } catch {
      return false;
    }
  }

  remove(key) {
    try {
      this.backend.removeItem(this.prefix + key);
    } catch {
      // nothing to do: the value stays until storage works again
    }
  }

  /** Keys (without the prefix) that start with `sub`. */
  keys(sub = '') {
    const out = [];
    try {
      const full = this.prefix + sub;
      for (let i = 0; i < this.backend.length; i++) {
        const k = this.backend.key(i);
        if (k !== null && k.startsWith(full)) out.push(k.slice(this.prefix.length));
      }
    } catch {
      // unreadable storage: nothing persisted
    }
    return out;
  }
}
