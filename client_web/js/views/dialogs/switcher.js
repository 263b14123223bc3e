// The Ctrl/Cmd+K channel switcher: type to rank channels (switcher ranking in channel-list.js),
// ↑/↓ to choose, Enter to open, Esc to close.

import { channelIcon, h, replaceChildren } from '../dom.js';
import { rankForSwitcher } from '../../model/channel-list.js';
import { badgeText, unreadOf } from '../../model/unread.js';
import { openModal } from './modal.js';

const SWITCHER_MAX = 50;

export class Switcher {
  /**
   * @param {{dialog: HTMLDialogElement, input: HTMLInputElement, list: HTMLElement}} els
   * @param {{channels(): object[], recent(): number[], choose(ch: number): void}} callbacks
   */
  constructor(els, callbacks) {
    this.dialog = els.dialog;
    this.input = els.input;
    this.list = els.list;
    this.callbacks = callbacks;
    this.results = [];
    this.active = 0;
    this.input.addEventListener('input', () => {
      this.active = 0;
      this.render();
    });
    this.input.addEventListener('keydown', (ev) => this._key(ev));
    this.list.addEventListener('click', (ev) => {
      const li = ev.target.closest('li[data-ch]');
      if (li) this._choose(Number(li.dataset.ch));
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  open() {
    this.input.value = '';
    this.active = 0;
    this.render();
    openModal(this.dialog, this.input);
  }

  render() {
    this.results = rankForSwitcher(this.callbacks.channels(), this.input.value, this.callbacks.recent()).slice(0, SWITCHER_MAX);
    if (this.active >= this.results.length) this.active = Math.max(0, this.results.length - 1);
    const items = this.results.map((c, i) => {
      const n = unreadOf(c);
      return h(
        'li',
        { id: `sw-${c.id}`, role: 'option', 'aria-selected': i === this.active ? 'true' : 'false', class: i === this.active ? 'active' : '', dataset: { ch: String(c.id) } },
        channelIcon(c.private),
        h('bdi', { class: 'chan-name' }, c.name),
        n ? h('span', { class: 'badge' }, badgeText(n)) : null,
      );
    });
    if (!items.length) items.push(h('li', { class: 'muted', role: 'option', 'aria-disabled': 'true' }, 'No channel matches.'));
    replaceChildren(this.list, ...items);
    const current = this.results[this.active];
    if (current) this.input.setAttribute('aria-activedescendant', `sw-${current.id}`);
    else this.input.removeAttribute('aria-activedescendant');
    this.list.querySelector('li.active')?.scrollIntoView({ block: 'nearest' });
  }

  _key(ev) {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const n = this.results.length;
      if (!n) return;
      this.active = (this.active + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render();
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      const c = this.results[this.active];
      if (c) this._choose(c.id);
    }
  }

  _choose(ch) {
    this.dialog.close();
    this.callbacks.choose(ch);
  }
}
