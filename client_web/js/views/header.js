// The open channel's header: its name with "#", a lock, or (a conversation) "@", the description,
// the favourite star, notification settings, and Members / Invite (and the members panel's
// toggle on wide screens).

export class ChannelHeader {
  /**
   * @param {{title: HTMLElement, icon: HTMLElement, desc: HTMLElement, fav: HTMLButtonElement, favIcon: HTMLElement,
   *   members: HTMLButtonElement, invite: HTMLButtonElement, notify: HTMLButtonElement}} els
   * @param {{toggleFavourite(): void, members(): void, invite(): void, notify(): void}} callbacks
   */
  constructor(els, callbacks) {
    this.els = els;
    els.fav.addEventListener('click', () => callbacks.toggleFavourite());
    els.members.addEventListener('click', () => callbacks.members());
    els.invite.addEventListener('click', () => callbacks.invite());
    els.notify.addEventListener('click', () => callbacks.notify());
  }

  /** Show channel record `c`; `favourite`: whether it is starred. */
  render(c, { favourite }) {
    const els = this.els;
    els.title.textContent = c.name;
    els.icon.textContent = c.dm ? '@' : c.private ? '' : '#';
    els.icon.className = c.private && !c.dm ? 'channel-icon icon icon-lock' : 'channel-icon';
    const desc = c.dm ? (c.dm.length ? `Direct messages with ${c.name}` : 'Your notes: only you see them') : c.description;
    els.desc.textContent = desc;
    els.desc.hidden = !desc;
    els.fav.setAttribute('aria-pressed', favourite ? 'true' : 'false');
    els.fav.title = favourite ? 'Remove from favourites' : 'Add to favourites';
    els.favIcon.textContent = favourite ? '★' : '☆';
    els.invite.hidden = !!c.dm || (c.private && c.role !== 'owner');
    const level = c.muted ? 'muted' : c.notify;
    els.notify.title = `Notifications: ${level}`;
    els.notify.setAttribute('aria-label', `Notification settings (now: ${level})`);
    els.notify.dataset.level = level;
  }

  /** No channel to show. */
  renderNone() {
    this.els.title.textContent = 'No channel';
  }
}
