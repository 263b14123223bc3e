// The sidebar: channel sections (favourites, recent, all, direct messages), unread badges with
// a separate mention badge, presence dots on conversations, the filter box, and keyboard
// movement between channels. Elements are reused by channel id, so re-rendering a list of
// hundreds of channels on every unread change stays cheap.

import { channelIcon, h, replaceChildren } from './dom.js';
import { sidebarSections } from '../model/channel-list.js';
import { presenceLabel } from '../model/presence.js';
import { badgeText, mentionsOf, unreadOf } from '../model/unread.js';

export class Sidebar {
  /**
   * @param {object} els {nav, filter, browse, create, switcher}: the list, its filter box and the
   *   sidebar's buttons
   * @param {object} hooks {open(ch), data() → {channels, favourites, recent, activeId,
   *   drafts:Set}, browse(), create(), switcher(), message(), presence(user) → state}
   */
  constructor(els, hooks) {
    this.nav = els.nav;
    this.filter = els.filter;
    this.hooks = hooks;
    els.browse.addEventListener('click', () => hooks.browse());
    els.create.addEventListener('click', () => hooks.create());
    els.message.addEventListener('click', () => hooks.message());
    els.switcher.addEventListener('click', () => hooks.switcher());
    /** @type {Map<number, HTMLElement>} */
    this.items = new Map();
    this.order = [];
    this.filter.addEventListener('input', () => this.render());
    this.filter.addEventListener('keydown', (ev) => this._filterKey(ev));
    this.nav.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-ch]');
      if (button) hooks.open(Number(button.dataset.ch));
    });
    this.nav.addEventListener('keydown', (ev) => this._navKey(ev));
  }

  /** Channel ids in the order they are shown (for Alt+↑/↓). */
  visibleOrder() {
    return this.order;
  }

  render() {
    const { channels, favourites, recent, activeId, drafts } = this.hooks.data();
    const sections = sidebarSections({ channels, favourites, recent, filter: this.filter.value });
    const seen = new Set();
    const blocks = [];
    this.order = [];
    for (const section of sections) {
      const ul = h('ul', { class: 'chan-list', role: 'list', 'aria-labelledby': `sec-${section.id}` });
      for (const c of section.items) {
        seen.add(c.id);
        this.order.push(c.id);
        ul.append(this._item(c, c.id === activeId, drafts.has(c.id)));
      }
      blocks.push(
        h('section', { class: 'chan-section', dataset: { section: section.id } }, h('h2', { id: `sec-${section.id}`, class: 'section-title' }, section.title), ul),
      );
    }
    if (!sections.length) {
      blocks.push(h('p', { class: 'muted empty-filter' }, this.filter.value ? 'No channel matches.' : 'No channels yet.'));
    }
    for (const id of [...this.items.keys()]) if (!seen.has(id)) this.items.delete(id);
    const hadFocus = this.nav.contains(document.activeElement) ? document.activeElement.dataset.ch : null;
    replaceChildren(this.nav, ...blocks);
    if (hadFocus) this.items.get(Number(hadFocus))?.querySelector('button')?.focus();
  }

  /** A conversation's dot: the other person's presence (a group: online if anyone is). */
  _dmState(c) {
    const states = c.dm.map((u) => presenceLabel(this.hooks.presence(u.id)));
    return states.includes('online') ? 'online' : states.includes('away') ? 'away' : 'offline';
  }

  _item(c, active, hasDraft) {
    const unread = unreadOf(c);
    const mentions = mentionsOf(c);
    const dmState = c.dm ? this._dmState(c) : '';
    const sig = `${c.name}|${c.private ? 1 : 0}|${unread}|${mentions}|${c.muted ? 1 : 0}|${dmState}|${active ? 1 : 0}|${hasDraft ? 1 : 0}`;
    let li = this.items.get(c.id);
    if (li && li.dataset.sig === sig) return li;
    const kind = c.dm ? `conversation with ${c.name}, ${dmState}` : `${c.private ? 'private channel' : 'channel'} ${c.name}`;
    const label = `${kind}${unread ? `, ${unread} unread` : ''}${mentions ? `, ${mentions} mention${mentions === 1 ? '' : 's'}` : ''}${c.muted ? ', muted' : ''}${hasDraft ? ', draft' : ''}`;
    const button = h(
      'button',
      {
        type: 'button',
        class: `chan${unread && !c.muted ? ' unread' : ''}${c.muted ? ' muted-chan' : ''}${active ? ' active' : ''}`,
        dataset: { ch: String(c.id) },
        'aria-current': active ? 'page' : undefined,
        'aria-label': label,
      },
      c.dm ? h('span', { class: `chan-icon presence presence-${dmState}`, 'aria-hidden': 'true' }) : channelIcon(c.private),
      h('bdi', { class: 'chan-name' }, c.name),
      hasDraft && !active ? h('span', { class: 'chan-draft', 'aria-hidden': 'true', title: 'Draft' }, '✎') : null,
      mentions ? h('span', { class: 'badge badge-mention', 'aria-hidden': 'true', title: 'Mentions of you' }, `@${badgeText(mentions)}`) : null,
      unread ? h('span', { class: `badge${c.muted ? ' badge-muted' : ''}`, 'aria-hidden': 'true' }, badgeText(unread)) : null,
    );
    li = h('li', { dataset: { sig, ch: String(c.id) } }, button);
    this.items.set(c.id, li);
    return li;
  }

  _buttons() {
    return [...this.nav.querySelectorAll('button[data-ch]')];
  }

  _filterKey(ev) {
    if (ev.key === 'ArrowDown') {
      ev.preventDefault();
      this._buttons()[0]?.focus();
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      const first = this._buttons()[0];
      if (first) {
        this.filter.value = '';
        this.hooks.open(Number(first.dataset.ch));
      }
    } else if (ev.key === 'Escape' && this.filter.value) {
      ev.preventDefault();
      ev.stopPropagation();
      this.filter.value = '';
      this.render();
    }
  }

  _navKey(ev) {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp' && ev.key !== 'Home' && ev.key !== 'End') return;
    const buttons = this._buttons();
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    ev.preventDefault();
    let j = i;
    if (ev.key === 'ArrowDown') j = Math.min(buttons.length - 1, i + 1);
    else if (ev.key === 'ArrowUp') j = i - 1;
    else if (ev.key === 'Home') j = 0;
    else j = buttons.length - 1;
    if (j < 0) this.filter.focus();
    else buttons[j].focus();
  }
}
