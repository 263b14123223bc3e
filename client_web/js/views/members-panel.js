// The members panel beside the conversation on wide screens: who is in the open channel, online
// first, then away, then offline, each with a presence dot that follows `presence` pushes; a
// member's name opens our direct message conversation.

import { h, replaceChildren } from './dom.js';
import { byPresence } from '../model/members.js';
import { presenceLabel } from '../model/presence.js';

const HEADINGS = { online: 'Online', away: 'Away', offline: 'Offline' };

export class MembersPanel {
  /**
   * @param {{panel: HTMLElement, list: HTMLElement, count: HTMLElement, toggle: HTMLButtonElement}} els
   * @param {{members(): Array<object>|undefined, presence(id: number): string, me(): number|null,
   *   message(user: object): void}} hooks members: the open channel's (undefined while loading);
   *   message: open my conversation with that member
   */
  constructor(els, hooks) {
    this.els = els;
    this.hooks = hooks;
    els.list.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-user]');
      const user = button && this.hooks.members()?.find((m) => m.id === Number(button.dataset.user));
      if (user) this.hooks.message(user);
    });
    els.toggle.addEventListener('click', () => {
      const open = els.panel.hidden;
      els.panel.hidden = !open;
      els.panel.closest('.app')?.classList.toggle('panel-closed', !open);
      els.toggle.setAttribute('aria-expanded', String(open));
      if (open) this.render();
    });
  }

  render() {
    if (this.els.panel.hidden) return;
    const members = this.hooks.members();
    if (!members) {
      replaceChildren(this.els.list, h('li', { class: 'muted' }, 'Loading…'));
      replaceChildren(this.els.count, '');
      return;
    }
    const me = this.hooks.me();
    const groups = { online: [], away: [], offline: [] };
    for (const m of byPresence(members, (id) => this.hooks.presence(id))) groups[presenceLabel(this.hooks.presence(m.id))].push(m);
    replaceChildren(this.els.count, String(members.length));
    const blocks = [];
    for (const state of ['online', 'away', 'offline']) {
      if (!groups[state].length) continue;
      blocks.push(h('li', { class: 'panel-heading', role: 'presentation' }, `${HEADINGS[state]} — ${groups[state].length}`));
      for (const m of groups[state]) {
        const label = `${m.display} (@${m.name}), ${state}${m.id === me ? ', you' : ''}`;
        const name = [h('span', { class: `presence presence-${state}`, 'aria-hidden': 'true' }), h('bdi', { class: 'member-display' }, m.display),
          m.role === 'owner' ? h('span', { class: 'role' }, 'owner') : null];
        blocks.push(h('li', { class: 'panel-member', dataset: { user: String(m.id), presence: state } },
          m.id === me
            ? h('span', { class: 'panel-me', 'aria-label': label }, ...name)
            : h('button', { type: 'button', class: 'panel-person', dataset: { user: String(m.id) }, 'aria-label': `Message ${label}`, title: `Message @${m.name}` }, ...name)));
      }
    }
    replaceChildren(this.els.list, ...blocks);
  }
}
