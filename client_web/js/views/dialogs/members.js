// A channel's members, with their presence (kept live by `presence` pushes), invitations by
// username (owners only, for a private channel), and leaving the channel.

import { channelIcon, h, replaceChildren } from '../dom.js';
import { errorText } from '../error-text.js';
import { ErrorCode } from '../../net/codes.js';
import { openModal } from './modal.js';

export class MembersDialog {
  /**
   * @param {{dialog: HTMLDialogElement, title: HTMLElement, list: HTMLElement, inviteForm: HTMLFormElement, user: HTMLInputElement, submit: HTMLButtonElement, result: HTMLElement, leave: HTMLButtonElement}} els
   * @param {object} callbacks
   * @param {(ch: number) => object|undefined} callbacks.channel the channel's record
   * @param {(ch: number) => Promise<object[]>} callbacks.members the `members` request (the
   *   model takes their presence from it)
   * @param {(user: number) => string} callbacks.presence "online" / "away" / "offline"
   * @param {(ch: number, user: string) => Promise<void>} callbacks.invite
   * @param {(ch: number) => Promise<void>} callbacks.leave the `channel.leave` request
   * @param {(ch: number) => void} callbacks.left after leaving, once the dialog has closed
   */
  constructor(els, callbacks) {
    this.els = els;
    this.dialog = els.dialog;
    this.callbacks = callbacks;
    this.ch = null;
    this.members = null;
    els.inviteForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this._invite();
    });
    els.leave.addEventListener('click', () => this._leave());
  }

  open(ch, { invite = false } = {}) {
    const c = this.callbacks.channel(ch);
    if (!c) return;
    this.ch = ch;
    replaceChildren(this.els.title, 'Members of ', channelIcon(c.private), h('bdi', {}, c.name));
    this.els.user.value = '';
    this.els.result.textContent = '';
    const canInvite = !c.private || c.role === 'owner';
    this.els.inviteForm.hidden = !canInvite;
    openModal(this.dialog, invite && canInvite ? this.els.user : null);
    this._load();
  }

  async _load() {
    const ch = this.ch;
    const list = this.els.list;
    this.members = null; // a presence push meanwhile must not redraw the previous list
    list.replaceChildren(h('li', { class: 'muted' }, 'Loading…'));
    try {
      const members = await this.callbacks.members(ch);
      if (ch !== this.ch) return;
      this.members = members;
      this.renderList();
    } catch (err) {
      replaceChildren(list, h('li', { class: 'form-error' }, errorText(err)));
    }
  }

  /** (Re)draw the member list; called again when a presence push arrives. */
  renderList() {
    if (!this.members || !this.dialog.open) return;
    replaceChildren(
      this.els.list,
      ...this.members.map((m) => {
        const state = this.callbacks.presence(m.id);
        return h(
          'li',
          { class: 'member', dataset: { user: String(m.id), presence: state } },
          h('span', { class: `presence presence-${state}`, title: state, 'aria-hidden': 'true' }),
          h('bdi', { class: 'member-display' }, m.display),
          ' ',
          h('span', { class: 'muted' }, `@${m.name}`),
          h('span', { class: 'visually-hidden' }, `, ${state}`),
          m.role === 'owner' ? h('span', { class: 'role' }, 'owner') : null,
        );
      }),
    );
  }

  _note(text, ok) {
    this.els.result.textContent = text;
    this.els.result.className = `form-note ${ok ? 'ok' : 'error'}`;
  }

  async _invite() {
    const user = this.els.user.value.trim().replace(/^@/, '');
    if (!user) return;
    const submit = this.els.submit;
    submit.disabled = true;
    try {
      await this.callbacks.invite(this.ch, user);
      this._note(`Invited @${user}.`, true);
      this.els.user.value = '';
      this._load();
    } catch (err) {
      const text = {
        [ErrorCode.USER_NOT_FOUND]: `There is no user named @${user}.`,
        [ErrorCode.ALREADY_MEMBER]: `@${user} is already a member.`,
        [ErrorCode.FORBIDDEN]: 'Only the owner of a private channel can invite people.',
      }[err.code];
      this._note(text ?? errorText(err), false);
    } finally {
      submit.disabled = false;
    }
  }

  async _leave() {
    const ch = this.ch;
    try {
      await this.callbacks.leave(ch);
      this.dialog.close();
      this.callbacks.left(ch);
    } catch (err) {
      this._note(errorText(err), false);
    }
  }
}
