// The search panel: a search box (Ctrl/Cmd+Shift+F opens it, Esc closes it), the order toggle,
// the count, the results with their snippets (matches marked with <mark>, built as text nodes:
// never HTML), "No messages match …" with one-click suggestions, more results on scroll, and
// the operators' help. It renders the SearchModel it is given and reports what the user does.

import { channelIcon, h, replaceChildren } from './dom.js';
import { countText, hitTimeLabel, markSegments, suggestionText } from '../model/search.js';
import { fullTimeLabel } from '../model/timeline.js';

/** More results are asked for when the reader scrolls this close to the end of the list. */
const LOAD_MORE_PX = 300;

export class SearchPanel {
  /**
   * @param {object} els see views/page.js (search)
   * @param {object} callbacks
   * @param {() => import('../model/search.js').SearchModel} callbacks.state
   * @param {(q: string, order: string, now: boolean) => void} callbacks.search typed (now: Enter)
   * @param {() => void} callbacks.more the reader reached the end of the results
   * @param {(hit: object) => void} callbacks.openHit
   * @param {(ch: number) => ({name: string, private: boolean}|undefined)} callbacks.channel
   * @param {() => number} callbacks.now the server's time, for "today"
   * @param {() => void} [callbacks.closed]
   */
  constructor(els, callbacks) {
    this.els = els;
    this.cb = callbacks;
    this.locale = undefined;
    this._nodes = new Map(); // hit id → its <li>
    this._returnFocus = null;
    // The shortcut as the keyboard in front of the user names it.
    if (/Mac|iPhone|iPad/.test(navigator.platform)) {
      for (const k of els.shortcuts) k.textContent = '⌘⇧F';
      els.open.title = 'Search messages (⌘⇧F)';
    }
    els.open.addEventListener('click', () => (this.isOpen ? this.close() : this.open()));
    els.close.addEventListener('click', () => this.close());
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      callbacks.search(els.input.value, els.order.value, true);
    });
    els.input.addEventListener('input', () => callbacks.search(els.input.value, els.order.value, false));
    els.order.addEventListener('change', () => callbacks.search(els.input.value, els.order.value, true));
    els.panel.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        this.close();
      }
    });
    els.results.addEventListener('scroll', () => this._maybeMore(), { passive: true });
    els.list.addEventListener('click', (ev) => {
      const item = ev.target.closest('[data-hit]');
      const hit = item && this.cb.state().results.find((r) => String(r.id) === item.dataset.hit);
      if (hit) callbacks.openHit(hit);
    });
    els.empty.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-q]');
      if (!b) return;
      els.input.value = b.dataset.q;
      callbacks.search(b.dataset.q, els.order.value, true);
      els.input.focus();
    });
    els.more.addEventListener('click', (ev) => {
      if (ev.target.closest('button')) callbacks.more();
    });
  }

  get isOpen() {
    return !this.els.panel.hidden;
  }

  /** Whether the server has search (hello's features): without it, no button and no panel. */
  get available() {
    return !this.els.open.hidden;
  }

  setAvailable(yes) {
    this.els.open.hidden = !yes;
    if (!yes) this.close();
  }

  /** Show the panel with the cursor in the search box (its text selected, to type anew). */
  open() {
    if (!this.isOpen) {
      const active = document.activeElement;
      this._returnFocus = active instanceof HTMLElement && !this.els.panel.contains(active) ? active : null;
      this.els.panel.hidden = false;
      this.els.app.classList.add('search-open');
      this.els.open.setAttribute('aria-expanded', 'true');
      this.render();
    }
    this.els.input.focus();
    this.els.input.select();
  }

  close() {
    if (!this.isOpen) return;
    this.els.panel.hidden = true;
    this.els.app.classList.remove('search-open');
    this.els.open.setAttribute('aria-expanded', 'false');
    const back = this._returnFocus;
    this._returnFocus = null;
    if (back && back.isConnected) back.focus();
    this.cb.closed?.();
  }

  /** Render the model's state. */
  render() {
    if (!this.isOpen) return;
    const m = this.cb.state();
    const els = this.els;
    if (els.order.value !== m.order) els.order.value = m.order;
    let status = '';
    if (m.loading === 'first') status = 'Searching…';
    else if (m.error) status = m.error;
    else if (m.searched) status = countText(m.count, m.capped, this.locale);
    if (els.count.textContent !== status) els.count.textContent = status;
    els.help.open = !m.q.trim();
    this._renderResults(m);
    const empty = m.searched && m.loading === 'idle' && m.results.length === 0 && !m.error;
    els.empty.hidden = !empty;
    if (empty) this._renderEmpty(m);
    els.more.hidden = !(m.loading === 'more' || (m.hasMore && m.loading === 'idle'));
    replaceChildren(els.more, m.loading === 'more'
      ? 'Loading more…'
      : h('button', { type: 'button', class: 'link-button' }, 'Load more results'));
    this._maybeMore();
  }

  _renderResults(m) {
    const list = this.els.list;
    const seen = new Set();
    let prev = null;
    for (const hit of m.results) {
      const key = `${m.generation}:${hit.id}`; // a new search marks other words: new elements
      seen.add(key);
      let node = this._nodes.get(key);
      if (!node) {
        node = this._hit(hit);
        this._nodes.set(key, node);
      }
      const expected = prev ? prev.nextSibling : list.firstChild;
      if (expected !== node) list.insertBefore(node, expected);
      prev = node;
    }
    for (const [key, node] of this._nodes) {
      if (!seen.has(key)) {
        node.remove();
        this._nodes.delete(key);
      }
    }
  }

  _hit(hit) {
    const c = this.cb.channel(hit.ch);
    const snippet = h('span', { class: 'hit-snippet', dir: 'auto' });
    for (const seg of markSegments(hit.snippet, hit.hl)) snippet.append(seg.mark ? h('mark', {}, seg.text) : seg.text);
    const time = h('time', { class: 'hit-time', datetime: new Date(hit.ts).toISOString(), title: fullTimeLabel(hit.ts, { locale: this.locale }) },
      hitTimeLabel(hit.ts, this.cb.now(), { locale: this.locale }));
    const button = h(
      'button',
      { type: 'button', class: 'search-hit', dataset: { hit: String(hit.id) } },
      h('span', { class: 'hit-head' },
        h('span', { class: 'hit-channel' }, channelIcon(!!c?.private), h('bdi', {}, c ? c.name : 'a channel')),
        ' ', h('bdi', { class: 'hit-author' }, hit.display), ' ', time),
      snippet,
    );
    return h('li', {}, button);
  }

  _renderEmpty(m) {
    const parts = [h('p', {}, 'No messages match ', h('q', { dir: 'auto' }, m.q.trim()), '.')];
    for (const s of m.suggestions) {
      parts.push(h('p', { class: 'suggestion' }, `${suggestionText(s)} `,
        h('button', { type: 'button', class: 'link-button', dataset: { q: s.q } }, h('bdi', {}, s.q)),
        ' ', h('span', { class: 'muted' }, `(${countText(s.count, s.capped, this.locale)})`)));
    }
    if (!m.suggestions.length) parts.push(h('p', { class: 'muted' }, 'Check the spelling, use fewer words, or leave out an operator.'));
    replaceChildren(this.els.empty, ...parts);
  }

  _maybeMore() {
    const r = this.els.results;
    const m = this.cb.state();
    if (this.isOpen && m.hasMore && m.loading === 'idle' && r.scrollHeight - r.scrollTop - r.clientHeight < LOAD_MORE_PX) {
      this.cb.more();
    }
  }
}
