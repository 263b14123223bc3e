// The polite live region: announces messages that arrive in other channels (or while the tab is
// hidden), coalesced so that a burst is one announcement, not one per message.

const ANNOUNCE_MS = 1500; // long enough to gather a burst, short enough to still be news
const BODY_CHARS = 140;

export class Announcer {
  /** @param {{live: HTMLElement}} els */
  constructor(els) {
    this.live = els.live;
    this._queue = [];
    this._timer = null;
  }

  /** Say `text` now (the outcome of something the user did). */
  say(text) {
    this.live.textContent = text;
  }

  /** A new message by `display` in channel `channel` (a name). */
  announce(channel, display, body) {
    this._queue.push({ channel, display, body });
    if (this._timer) return;
    this._timer = setTimeout(() => {
      const list = this._queue;
      this._queue = [];
      this._timer = null;
      this.live.textContent = summary(list);
    }, ANNOUNCE_MS);
  }
}

function summary(list) {
  if (list.length === 1) {
    const a = list[0];
    return `${a.display} in ${a.channel}: ${a.body.length > BODY_CHARS ? `${a.body.slice(0, BODY_CHARS)}…` : a.body}`;
  }
  const where = [...new Set(list.map((a) => a.channel))];
  return `${list.length} new messages in ${where.slice(0, 3).join(', ')}${where.length > 3 ? ' and more' : ''}`;
}
