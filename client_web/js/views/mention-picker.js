// The @mention autocomplete of the message box: typing `@` opens a list of the channel's members
// that match what follows (usernames and display names, any script), with their presence; ↑/↓
// choose, Enter or Tab insert `@username `, Esc closes. The box is its combobox (ARIA 1.2: a
// textarea with aria-autocomplete="list" controlling a listbox); the list is also clickable.

import { h, replaceChildren } from './dom.js';
import { insertMention, matchMembers, mentionQuery } from '../model/mentions.js';
import { presenceLabel } from '../model/presence.js';

export class MentionPicker {
  /**
   * @param {HTMLTextAreaElement} input the message box
   * @param {HTMLElement} list the listbox element (an empty <ul>)
   * @param {{members(): Array<{id: number, name: string, display: string}>|null, presence(id: number): string,
   *   inserted(): void}} hooks members: the open channel's members (null while unknown);
   *   inserted: the text changed by a pick
   */
  constructor(input, list, hooks) {
    this.input = input;
    this.list = list;
    this.hooks = hooks;
    this.matches = [];
    this.active = 0;
    this.query = null;
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('aria-expanded', 'false');
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'People to mention');
    list.hidden = true;
    // Registered before the composer's own keys: while the list is open, Enter and Tab pick.
    input.addEventListener('keydown', (ev) => this._key(ev));
    input.addEventListener('input', () => this.update());
    input.addEventListener('click', () => this.update());
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    list.addEventListener('mousedown', (ev) => ev.preventDefault()); // keep the caret in the box
    list.addEventListener('click', (ev) => {
      const option = ev.target.closest('[role="option"]');
      if (option) this._pick(Number(option.dataset.index));
    });
  }

  get isOpen() {
    return !this.list.hidden;
  }

  /** Look at the text before the caret: open, filter or close the list. */
  update() {
    const q = mentionQuery(this.input.value, this.input.selectionStart ?? this.input.value.length);
    const members = q ? this.hooks.members() : null;
    if (!q || !members) {
      this.close();
      return;
    }
    this.query = q;
    this.matches = matchMembers(members, q.query, 8, this.hooks.presence);
    this.active = 0;
    if (!this.matches.length) {
      this.close();
      return;
    }
    this._render();
  }

  close() {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.matches = [];
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  _render() {
    replaceChildren(
      this.list,
      this.matches.map((m, i) => {
        const state = presenceLabel(this.hooks.presence(m.id));
        return h(
          'li',
          { id: `${this.list.id}-${i}`, role: 'option', class: 'mention-option', 'aria-selected': i === this.active ? 'true' : 'false', dataset: { index: String(i), user: String(m.id) } },
          h('span', { class: `presence presence-${state}`, 'aria-hidden': 'true' }),
          h('bdi', { class: 'mention-display' }, m.display),
          ' ',
          h('span', { class: 'muted' }, `@${m.name}`),
          h('span', { class: 'visually-hidden' }, `, ${state}`),
        );
      }),
    );
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    this.input.setAttribute('aria-activedescendant', `${this.list.id}-${this.active}`);
  }

  _key(ev) {
    if (!this.isOpen || ev.isComposing) return;
    const n = this.matches.length;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      this.active = (this.active + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this._render();
    } else if ((ev.key === 'Enter' && !ev.shiftKey) || ev.key === 'Tab') {
      this._pick(this.active);
    } else if (ev.key === 'Escape') {
      this.close();
    } else {
      return;
    }
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }

  _pick(i) {
    const m = this.matches[i];
    const q = this.query;
    if (!m || !q) return;
    const caret = this.input.selectionStart ?? this.input.value.length;
    const next = insertMention(this.input.value, q.start, caret, m.name);
    this.input.value = next.text;
    this.input.setSelectionRange(next.caret, next.caret);
    this.close();
    this.hooks.inserted();
  }
}
