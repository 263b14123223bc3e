// A channel's notification settings (feature "notify"): all messages, mentions (and direct
// messages), or nothing; and mute. Stored on the server with my membership, so every device
// agrees: a change here comes back to all of them as `channel.updated`.

import { h, replaceChildren } from '../dom.js';
import { errorText } from '../error-text.js';
import { openModal } from './modal.js';

const LEVELS = [
  ['all', 'All new messages'],
  ['mentions', 'Only mentions of me (and @channel)'],
  ['nothing', 'Nothing'],
];

export class NotifySettings {
  /**
   * @param {{dialog: HTMLDialogElement, title: HTMLElement, levels: HTMLElement, muted: HTMLInputElement, note: HTMLElement}} els
   * @param {{channel(ch: number): object|undefined, save(ch: number, fields: object): Promise<void>}} callbacks
   */
  constructor(els, callbacks) {
    this.els = els;
    this.dialog = els.dialog;
    this.callbacks = callbacks;
    this.ch = null;
    els.levels.addEventListener('change', (ev) => {
      if (ev.target.name === 'notify-level') this._save({ notify: ev.target.value });
    });
    els.muted.addEventListener('change', () => this._save({ muted: els.muted.checked }));
  }

  open(ch) {
    const c = this.callbacks.channel(ch);
    if (!c) return;
    this.ch = ch;
    replaceChildren(this.els.title, `Notifications for ${c.dm ? '' : '#'}${c.name}`);
    replaceChildren(this.els.levels, h('legend', {}, 'Notify me of'), ...LEVELS.map(([value, label]) =>
      h('label', {}, h('input', { type: 'radio', name: 'notify-level', value, checked: c.notify === value }), ' ', label)));
    this.els.muted.checked = c.muted;
    this.els.note.textContent = '';
    openModal(this.dialog, this.els.levels.querySelector('input:checked'));
  }

  async _save(fields) {
    try {
      await this.callbacks.save(this.ch, fields);
      this.els.note.textContent = 'Saved for all your devices.';
    } catch (err) {
      this.els.note.textContent = errorText(err);
    }
  }
}
