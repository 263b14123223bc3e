// "New message": choose the people of a direct message conversation (1 to 7 besides me) from the
// server's directory (`users`), by name in any script; Enter or "Start" opens the conversation.

import { h, replaceChildren } from '../dom.js';
import { errorText } from '../error-text.js';
import { openModal } from './modal.js';

export const MAX_PEOPLE = 7;
const SEARCH_DELAY_MS = 150;

export class PeopleDialog {
  /**
   * @param {{dialog: HTMLDialogElement, form: HTMLFormElement, input: HTMLInputElement, list: HTMLElement,
   *   chosen: HTMLElement, start: HTMLButtonElement, error: HTMLElement}} els
   * @param {{find(q: string): Promise<object[]>, open(usernames: string[]): Promise<void>, me(): number|null}} callbacks
   */
  constructor(els, callbacks) {
    this.els = els;
    this.dialog = els.dialog;
    this.callbacks = callbacks;
    this.chosen = [];
    this.found = [];
    this._timer = null;
    els.input.addEventListener('input', () => {
      clearTimeout(this._timer);
      this._timer = setTimeout(() => this._search(), SEARCH_DELAY_MS);
    });
    els.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        if (this.found.length && this.els.input.value.trim()) this._choose(this.found[0]);
        else this._start();
      }
    });
    els.list.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-user]');
      const u = b && this.found.find((x) => x.id === Number(b.dataset.user));
      if (u) this._choose(u);
    });
    els.chosen.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-user]');
      if (!b) return;
      this.chosen = this.chosen.filter((u) => u.id !== Number(b.dataset.user));
      this._render();
    });
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this._start();
    });
  }

  /** Open the dialog, with `people` already chosen (a member's name was clicked elsewhere). */
  open(people = []) {
    this.chosen = [...people];
    this.els.input.value = '';
    this.els.error.hidden = true;
    openModal(this.dialog, this.els.input);
    this._render();
    this._search();
  }

  async _search() {
    const q = this.els.input.value.trim();
    try {
      const users = await this.callbacks.find(q);
      if (q !== this.els.input.value.trim()) return;
      const me = this.callbacks.me();
      this.found = users.filter((u) => u.id !== me && !this.chosen.some((c) => c.id === u.id));
      this._render();
    } catch (err) {
      this._error(errorText(err));
    }
  }

  _choose(u) {
    if (this.chosen.length >= MAX_PEOPLE) {
      this._error(`A conversation has at most ${MAX_PEOPLE + 1} people.`);
      return;
    }
    this.chosen.push(u);
    this.els.input.value = '';
    this._search();
  }

  async _start() {
    if (!this.chosen.length) {
      this._error('Choose someone to write to.');
      return;
    }
    this.els.start.disabled = true;
    try {
      await this.callbacks.open(this.chosen.map((u) => u.name));
      this.dialog.close();
    } catch (err) {
      this._error(errorText(err));
    } finally {
      this.els.start.disabled = false;
    }
  }

  _error(text) {
    this.els.error.hidden = false;
    this.els.error.textContent = text;
  }

  _render() {
    replaceChildren(this.els.chosen, this.chosen.map((u) => h('span', { class: 'person-chip' }, h('bdi', {}, u.display), ' ',
      h('button', { type: 'button', class: 'icon-button', dataset: { user: String(u.id) }, 'aria-label': `Remove ${u.display}`, title: 'Remove' }, h('span', { 'aria-hidden': 'true' }, '✕')))));
    replaceChildren(this.els.list, this.found.length
      ? this.found.map((u) => h('li', {}, h('button', { type: 'button', class: 'person', dataset: { user: String(u.id) }, 'aria-label': `Add ${u.display} (@${u.name})` },
        h('bdi', {}, u.display), ' ', h('span', { class: 'muted' }, `@${u.name}`))))
      : [h('li', { class: 'muted' }, this.els.input.value.trim() ? 'Nobody by that name.' : '')]);
    this.els.start.textContent = this.chosen.length > 1 ? 'Start group conversation' : 'Start conversation';
  }
}
