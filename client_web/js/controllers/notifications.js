// Desktop notifications (feature "notify") and the counts on the tab: a new message that deserves
// it (model/notify.js) becomes a Notification while I am not looking; a click on it brings the
// tab forward at that message. Permission is asked only from a click on the prompt bar — never
// by itself. The favicon carries the unread count, the title already does (chat.js).

import { notificationOf, shouldNotify } from '../model/notify.js';
import { badgeText } from '../model/unread.js';
import { h, replaceChildren } from '../views/dom.js';

const DISMISSED_KEY = 'notify-prompt-dismissed';
const CHANGED_KEPT = 50; // a counts push follows its msg.changed at once: a few are plenty
const ICON_PX = 64;

export class Notifier {
  /**
   * @param {object} opts
   * @param {import('../model/channels.js').Channels} opts.channels
   * @param {import('../model/session.js').Session} opts.session
   * @param {(ch: number, seq: number) => void} opts.openAt show a message (a click on a notification)
   * @param {{bar: HTMLElement, text: HTMLElement, enable: HTMLButtonElement, dismiss: HTMLButtonElement, icon: HTMLLinkElement}} opts.els
   * @param {typeof Notification|undefined} [opts.api] the Notification API (absent in some browsers)
   */
  constructor({ channels, session, openAt, els, api = globalThis.Notification }) {
    Object.assign(this, { channels, session, openAt, els, api });
    /** What this page showed, newest last: {title, body, tag, ch, seq} (also for the tests). */
    this.shown = [];
    /** The latest versions of changed messages, by "ch:seq": what an edit that mentions me says,
     * when the channel's messages are not loaded here. */
    this._changed = new Map();
    this._iconHref = els.icon.href;
    this._iconCount = 0;
    this._baseImage = null;
    els.enable.addEventListener('click', () => this._ask());
    els.dismiss.addEventListener('click', () => {
      this.session.store?.set(DISMISSED_KEY, true);
      this.renderPrompt();
    });
  }

  /** The permission: "granted", "denied", "default", or "unsupported". */
  get permission() {
    return this.api ? this.api.permission : 'unsupported';
  }

  /** True iff the user is looking at this page (visible and focused). */
  looking() {
    return document.visibilityState === 'visible' && document.hasFocus();
  }

  /** A new message arrived live (never a replay): notify if it deserves it. */
  news(ch, m, mention) {
    const c = this.channels.get(ch);
    const own = m.user === this.session.myId;
    if (shouldNotify(c, { mention, own, looking: this.looking() })) this._show(c, m);
  }

  /** A message changed (`msg.changed`): keep it a moment, its `counts` push may follow. */
  changed(m) {
    this._changed.delete(`${m.ch}:${m.seq}`);
    this._changed.set(`${m.ch}:${m.seq}`, m);
    if (this._changed.size > CHANGED_KEPT) this._changed.delete(this._changed.keys().next().value);
  }

  /** A `counts` push: an edit made a message mention me — notify once, as for a new mention. */
  counts(f) {
    if (!Number.isSafeInteger(f.mention)) return;
    const c = this.channels.get(f.ch);
    const m = this._changed.get(`${f.ch}:${f.mention}`) ?? this.channels.log(f.ch)?.find(f.mention);
    if (c && m && !m.deleted && shouldNotify(c, { mention: true, own: false, looking: this.looking() })) this._show(c, m);
  }

  _show(c, m) {
    if (this.permission !== 'granted') return;
    const n = notificationOf(c, m);
    const seq = m.seq;
    try {
      const shown = new this.api(n.title, { body: n.body, tag: n.tag, icon: this._iconHref });
      shown.addEventListener('click', () => {
        window.focus();
        this.openAt(c.id, seq);
        shown.close();
      });
    } catch {
      return; // a browser that only notifies from a service worker: the title and icon still count
    }
    this.shown.push({ ...n, ch: c.id, seq });
  }

  /** Show the prompt bar while permission was never asked and the user did not say "not now". */
  renderPrompt() {
    const { bar, text, enable } = this.els;
    const p = this.permission;
    const dismissed = this.session.store?.get(DISMISSED_KEY, false) === true;
    bar.hidden = p === 'unsupported' || p === 'granted' || dismissed || !this.session.me;
    if (bar.hidden) return;
    enable.hidden = p !== 'default';
    replaceChildren(text, p === 'denied'
      ? 'Notifications are blocked for this site in your browser’s settings; unread counts still show in the tab.'
      : 'Get a notification for direct messages and mentions when chatd is in the background?');
  }

  async _ask() {
    try {
      await this.api.requestPermission();
    } catch {
      // an old browser with the callback form, or none: the bar says what the state is
    }
    this.renderPrompt();
  }

  /** The unread totals changed: the favicon shows the count of unread messages. */
  totals({ messages }) {
    if (messages === this._iconCount) return;
    this._iconCount = messages;
    if (!messages) {
      this.els.icon.href = this._iconHref;
      return;
    }
    this._drawIcon(messages);
  }

  _drawIcon(count) {
    const paint = (image) => {
      if (count !== this._iconCount) return; // a newer count is being drawn
      const canvas = h('canvas', { width: String(ICON_PX), height: String(ICON_PX) });
      const g = canvas.getContext('2d');
      if (!g) return;
      g.drawImage(image, 0, 0, ICON_PX, ICON_PX);
      g.fillStyle = '#d92d20';
      g.beginPath();
      g.arc(ICON_PX * 0.7, ICON_PX * 0.3, ICON_PX * 0.3, 0, 2 * Math.PI);
      g.fill();
      g.fillStyle = '#ffffff';
      g.font = `bold ${ICON_PX * 0.34}px sans-serif`;
      g.textAlign = 'center';
      g.textBaseline = 'middle';
      g.fillText(badgeText(count), ICON_PX * 0.7, ICON_PX * 0.31);
      this.els.icon.href = canvas.toDataURL('image/png');
    };
    if (this._baseImage?.complete) {
      paint(this._baseImage);
      return;
    }
    const image = new Image();
    image.addEventListener('load', () => paint(image), { once: true });
    image.src = this._iconHref;
    this._baseImage = image;
  }
}
