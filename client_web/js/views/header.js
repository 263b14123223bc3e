// The open channel's header: its name with "#" or a lock, the description, the favourite star,
// and the Members / Invite buttons.

export class ChannelHeader {
  /**
   * @param {{title: HTMLElement, icon: HTMLElement, desc: HTMLElement, fav: HTMLButtonElement, favIcon: HTMLElement, members: HTMLButtonElement, invite: HTMLButtonElement}} els
   * @param {{toggleFavourite(): void, members(): void, invite(): void}} callbacks
   */
  constructor(els, callbacks) {
    this.els = els;
    els.fav.addEventListener('click', () => callbacks.toggleFavourite());
    els.members.addEventListener('click', () => callbacks.members());
    els.invite.addEventListener('click', () => callbacks.invite());
  }

  /** Show channel record `c`; `favourite`: whether it is starred. */
  render(c, { favourite }) {
    const els = this.els;
    els.title.textContent = c.name;
    els.icon.textContent = c.private ? '' : '#';
    els.icon.className = c.private ? 'channel-icon icon icon-lock' : 'channel-icon';
    els.desc.textContent = c.description;
    els.desc.hidden = !c.description;
    els.fav.setAttribute('aria-pressed', favourite ? 'true' : 'false');
    els.fav.title = favourite ? 'Remove from favourites' : 'Add to favourites';
    els.favIcon.textContent = favourite ? '★' : '☆';
    els.invite.hidden = c.private && c.role !== 'owner';
  }

  /** No channel to show. */
  renderNone() {
    this.els.title.textContent = 'No channel';
  }
}

