// The channel browser: public channels with member counts, searched as you type, paged with the
// server's `next` cursor; Join (or Open, for channels I am in), and "Create a channel".

import { h } from '../dom.js';
import { errorText } from '../error-text.js';
import { openModal } from './modal.js';

const BROWSE_PAGE = 50;
const SEARCH_DEBOUNCE_MS = 200;

export class ChannelBrowser {
  /**
   * @param {{dialog: HTMLDialogElement, input: HTMLInputElement, list: HTMLElement, more: HTMLButtonElement, create: HTMLButtonElement}} els
   * @param {object} callbacks
   * @param {(fields: object) => Promise<object>} callbacks.browse the `browse` request
   * @param {(ch: number) => boolean} callbacks.isMember
   * @param {(ch: number) => Promise<void>} callbacks.join
   * @param {(ch: number) => void} callbacks.open show a channel I am in
   * @param {(name: string) => void} callbacks.create offer to create a channel of that name
   */
  constructor(els, callbacks) {
    this.dialog = els.dialog;
    this.input = els.input;
    this.list = els.list;
    this.more = els.more;
    this.callbacks = callbacks;
    this.next = null;
    this.query = '';
    this.generation = 0;
    let timer = null;
    this.input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.search(this.input.value.trim()), SEARCH_DEBOUNCE_MS);
    });
    this.more.addEventListener('click', () => this.load(false));
    els.create.addEventListener('click', () => {
      this.dialog.close();
      callbacks.create(this.input.value.trim());
    });
    this.list.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-ch]');
      if (button) this._joinOrOpen(Number(button.dataset.ch), button);
    });
  }

  open() {
    this.input.value = '';
    openModal(this.dialog, this.input);
    this.search('');
  }

  search(q) {
    this.query = q;
    this.next = null;
    this.list.replaceChildren();
    this.load(true);
  }

  async load(first) {
    const gen = ++this.generation;
    const fields = { limit: BROWSE_PAGE };
    if (this.query) fields.q = this.query;
    if (!first && this.next) fields.after = this.next;
    this.list.setAttribute('aria-busy', 'true');
    this.more.hidden = true;
    try {
      const ok = await this.callbacks.browse(fields);
      if (gen !== this.generation) return;
      for (const c of ok.channels ?? []) this.list.append(this._row(c));
      this.next = typeof ok.next === 'string' ? ok.next : null;
      this.more.hidden = !this.next;
      if (!this.list.children.length) {
        this.list.append(h('li', { class: 'muted empty' }, this.query ? `No public channel matches “${this.query}”.` : 'No public channels yet.'));
      }
    } catch (err) {
      if (gen !== this.generation) return;
      this.list.append(h('li', { class: 'form-error' }, errorText(err)));
    } finally {
      if (gen === this.generation) this.list.setAttribute('aria-busy', 'false');
    }
  }

  _row(c) {
    const joined = c.joined || this.callbacks.isMember(c.id);
    return h(
      'li',
      { class: 'browse-item', dataset: { ch: String(c.id) } },
      h(
        'div',
        { class: 'browse-text' },
        h('div', { class: 'browse-name' }, h('span', { 'aria-hidden': 'true' }, '#'), h('bdi', {}, c.name)),
        c.description ? h('div', { class: 'browse-desc muted', dir: 'auto' }, c.description) : null,
        h('div', { class: 'browse-meta muted' }, `${c.members} member${c.members === 1 ? '' : 's'}`),
      ),
      h('button', { type: 'button', class: joined ? 'secondary' : '', dataset: { ch: String(c.id), joined: joined ? '1' : '0' }, 'aria-label': `${joined ? 'Open' : 'Join'} ${c.name}` }, joined ? 'Open' : 'Join'),
    );
  }

  async _joinOrOpen(ch, button) {
    if (button.dataset.joined === '1') {
      this.dialog.close();
      this.callbacks.open(ch);
      return;
    }
    button.disabled = true;
    try {
      await this.callbacks.join(ch);
      this.dialog.close();
      this.callbacks.open(ch);
    } catch (err) {
      button.disabled = false;
      button.closest('li').append(h('p', { class: 'form-error' }, errorText(err)));
    }
  }
}
