// Per-channel composer drafts, kept across reloads in the user's store. Pure over the store.

import { isBlank } from '../lib/text.js';

const KEY = 'draft:';

export class Drafts {
  /** @param {import('./storage.js').Store} store */
  constructor(store) {
    this.store = store;
  }

  /** The draft of channel `ch`, or "". */
  get(ch) {
    const v = this.store.get(KEY + ch, '');
    return typeof v === 'string' ? v : '';
  }

  /** Remember `text` for `ch`; an empty or blank draft is removed. */
  set(ch, text) {
    if (typeof text !== 'string' || isBlank(text)) this.store.remove(KEY + ch);
    else this.store.set(KEY + ch, text);
  }

  clear(ch) {
    this.store.remove(KEY + ch);
  }

  /** Channels that have a draft. */
  channels() {
    return this.store
      .keys(KEY)
      .map((k) => Number(k.slice(KEY.length)))
      .filter((n) => Number.isSafeInteger(n));
  }
}
