// The app's dialogs: the Ctrl/Cmd+K channel switcher, the channel browser, channel creation,
// members and invitations, and the log-in dialog shown when the session ends. Native <dialog>
// elements: modal, Esc closes them (except the log-in one), focus returns to where it was.

import { byId, channelIcon, h, replaceChildren } from './dom.js';
import { rankForSwitcher } from '../model/channel-list.js';
import { badgeText, unreadOf } from '../model/unread.js';
import { presenceLabel } from '../model/presence.js';
import { ErrorCode, LocalError } from '../net/codes.js';

const SWITCHER_MAX = 50;
const BROWSE_PAGE = 50;
const SEARCH_DEBOUNCE_MS = 200;

/** Open `dialog` modally; when it closes, focus goes back to what had it. */
export function openModal(dialog, focus) {
  if (dialog.open) return;
  const back = document.activeElement;
  dialog.showModal();
  dialog.addEventListener(
    'close',
    () => {
      if (back && back.isConnected && typeof back.focus === 'function') back.focus();
    },
    { once: true },
  );
  if (focus) focus.focus();
}

/** Wire the [data-close] buttons of every dialog. */
export function wireCloseButtons() {
  for (const button of document.querySelectorAll('dialog [data-close]')) {
    button.addEventListener('click', () => button.closest('dialog').close());
  }
  // A click on the backdrop (the dialog element itself, outside its content) closes it.
  for (const dialog of document.querySelectorAll('dialog')) {
    if (dialog.id === 'login-dialog') continue;
    dialog.addEventListener('click', (ev) => {
      if (ev.target !== dialog) return;
      const r = dialog.getBoundingClientRect();
      const inside = ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom;
      if (!inside) dialog.close();
    });
  }
}

/** Human text for an error code from the server (PROTOCOL.md §8) or the connection. */
export function errorText(err) {
  switch (err && err.code) {
    case LocalError.OFFLINE:
    case LocalError.DISCONNECTED:
      return 'You are offline. Try again when the connection is back.';
    case LocalError.TIMEOUT:
      return 'The server did not answer in time. Try again.';
    case ErrorCode.RATE_LIMITED:
      return 'Too many requests. Wait a few seconds and try again.';
    case ErrorCode.UNAVAILABLE:
      return 'The server is busy or its database is down. Try again shortly.';
    case ErrorCode.NOT_FOUND:
      return 'That channel does not exist (or is private).';
    default:
      return (err && err.message) || 'Something went wrong.';
  }
}

// --- switcher -----------------------------------------------------------------------------

export class Switcher {
  constructor(app) {
    this.app = app;
    this.dialog = byId('switcher');
    this.input = byId('switcher-input');
    this.list = byId('switcher-list');
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

  open() {
    this.input.value = '';
    this.active = 0;
    this.render();
    openModal(this.dialog, this.input);
  }

  render() {
    this.results = rankForSwitcher(this.app.channelList(), this.input.value, this.app.recent).slice(0, SWITCHER_MAX);
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
    this.app.open(ch, { focus: true });
  }
}

// --- channel browser ----------------------------------------------------------------------

export class ChannelBrowser {
  constructor(app) {
    this.app = app;
    this.dialog = byId('browse-dialog');
    this.input = byId('browse-input');
    this.list = byId('browse-list');
    this.more = byId('browse-more');
    this.next = null;
    this.query = '';
    this.generation = 0;
    let timer = null;
    this.input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.search(this.input.value.trim()), SEARCH_DEBOUNCE_MS);
    });
    this.more.addEventListener('click', () => this.load(false));
    byId('browse-create').addEventListener('click', () => {
      this.dialog.close();
      app.creator.open(this.input.value.trim());
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
      const ok = await this.app.request('browse', fields);
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
    const joined = c.joined || this.app.channels.has(c.id);
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
      this.app.open(ch, { focus: true });
      return;
    }
    button.disabled = true;
    try {
      await this.app.join(ch);
      this.dialog.close();
      this.app.open(ch, { focus: true });
    } catch (err) {
      button.disabled = false;
      button.closest('li').append(h('p', { class: 'form-error' }, errorText(err)));
    }
  }
}

// --- create -------------------------------------------------------------------------------

export class ChannelCreator {
  constructor(app) {
    this.app = app;
    this.dialog = byId('create-dialog');
    this.form = byId('create-form');
    this.name = byId('create-name');
    this.description = byId('create-description');
    this.error = byId('create-error');
    this.submit = byId('create-submit');
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this._create();
    });
  }

  open(name = '') {
    this.form.reset();
    this.name.value = name;
    this._showError(null);
    openModal(this.dialog, this.name);
  }

  _showError(content) {
    if (!content) {
      this.error.hidden = true;
      this.error.replaceChildren();
      return;
    }
    replaceChildren(this.error, ...[content].flat());
    this.error.hidden = false;
  }

  async _create() {
    const name = this.name.value.trim();
    if (!name) {
      this._showError('Give the channel a name.');
      this.name.focus();
      return;
    }
    const fields = { name, private: byId('create-private').checked };
    const description = this.description.value.trim();
    if (description) fields.description = description;
    this.submit.disabled = true;
    this._showError(null);
    try {
      const ok = await this.app.request('channel.create', fields);
      this.app.upsertChannel(ok.channel);
      this.dialog.close();
      this.app.open(ok.channel.id, { focus: true });
    } catch (err) {
      if (err.code === ErrorCode.NAME_TAKEN && err.existing !== undefined) {
        const join = h('button', { type: 'button', id: 'create-join-existing', class: 'secondary' }, `Join #${name}`);
        join.addEventListener('click', async () => {
          join.disabled = true;
          try {
            await this.app.join(err.existing);
            this.dialog.close();
            this.app.open(err.existing, { focus: true });
          } catch (joinErr) {
            this._showError(errorText(joinErr));
          }
        });
        this._showError([h('span', {}, `A public channel named “${name}” already exists. `), join]);
        join.focus();
      } else if (err.code === ErrorCode.NAME_TAKEN) {
        this._showError(`The name “${name}” is taken. Pick another one.`);
        this.name.focus();
      } else {
        this._showError(errorText(err));
        this.name.focus();
      }
    } finally {
      this.submit.disabled = false;
    }
  }
}

// --- members and invitations --------------------------------------------------------------

export class MembersDialog {
  constructor(app) {
    this.app = app;
    this.dialog = byId('members-dialog');
    this.list = byId('members-list');
    this.user = byId('invite-user');
    this.result = byId('invite-result');
    this.ch = null;
    this.members = null;
    byId('invite-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this._invite();
    });
    byId('leave-button').addEventListener('click', () => this._leave());
  }

  open(ch, { invite = false } = {}) {
    const c = this.app.channels.get(ch);
    if (!c) return;
    this.ch = ch;
    replaceChildren(byId('members-title'), 'Members of ', channelIcon(c.private), h('bdi', {}, c.name));
    this.user.value = '';
    this.result.textContent = '';
    const canInvite = !c.private || c.role === 'owner';
    byId('invite-form').hidden = !canInvite;
    openModal(this.dialog, invite && canInvite ? this.user : null);
    this._load();
  }

  async _load() {
    const ch = this.ch;
    this.list.replaceChildren(h('li', { class: 'muted' }, 'Loading…'));
    try {
      const ok = await this.app.request('members', { ch });
      if (ch !== this.ch) return;
      this.members = ok.members;
      for (const m of ok.members) if (typeof m.presence === 'string') this.app.presence.set(m.id, m.presence);
      this.renderList();
    } catch (err) {
      replaceChildren(this.list, h('li', { class: 'form-error' }, errorText(err)));
    }
  }

  /** (Re)draw the member list; called again when a presence push arrives. */
  renderList() {
    if (!this.members || !this.dialog.open) return;
    replaceChildren(
      this.list,
      ...this.members.map((m) => {
        const state = presenceLabel(this.app.presence.get(m.id));
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

  async _invite() {
    const user = this.user.value.trim().replace(/^@/, '');
    if (!user) return;
    const submit = byId('invite-submit');
    submit.disabled = true;
    try {
      await this.app.request('channel.invite', { ch: this.ch, user });
      this.result.textContent = `Invited @${user}.`;
      this.result.className = 'form-note ok';
      this.user.value = '';
      this._load();
    } catch (err) {
      const text = {
        [ErrorCode.USER_NOT_FOUND]: `There is no user named @${user}.`,
        [ErrorCode.ALREADY_MEMBER]: `@${user} is already a member.`,
        [ErrorCode.FORBIDDEN]: 'Only the owner of a private channel can invite people.',
      }[err.code];
      this.result.textContent = text ?? errorText(err);
      this.result.className = 'form-note error';
    } finally {
      submit.disabled = false;
    }
  }

  async _leave() {
    const ch = this.ch;
    try {
      await this.app.request('channel.leave', { ch });
      this.dialog.close();
      this.app.removeChannel(ch);
    } catch (err) {
      this.result.textContent = errorText(err);
      this.result.className = 'form-note error';
    }
  }
}

// --- log in again -------------------------------------------------------------------------

export class LoginDialog {
  /**
   * @param {object} app
   * @param {(fetchInit) => Promise<Response>} [doFetch]
   */
  constructor(app, doFetch = (url, init) => fetch(url, init)) {
    this.app = app;
    this.fetch = doFetch;
    this.dialog = byId('login-dialog');
    this.form = byId('login-form');
    this.username = byId('login-username');
    this.password = byId('login-password');
    this.error = byId('login-error');
    this.submit = byId('login-submit');
    // Esc must not leave the app in a state where nothing can be sent.
    this.dialog.addEventListener('cancel', (ev) => ev.preventDefault());
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this._login();
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  open(username, why) {
    if (why) byId('login-why').textContent = why;
    this.error.hidden = true;
    if (this.dialog.open) return;
    this.username.value = username || '';
    this.password.value = '';
    openModal(this.dialog, username ? this.password : this.username);
  }

  async _login() {
    const username = this.username.value.trim();
    const password = this.password.value;
    if (!username || !password) {
      this._error('Enter your username and password.');
      return;
    }
    this.submit.disabled = true;
    this.error.hidden = true;
    try {
      const resp = await this.fetch('/api/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      if (resp.ok) {
        this.password.value = '';
        this.dialog.close();
        this.app.reauthenticated(username);
        return;
      }
      let data = null;
      try {
        data = await resp.json();
      } catch {
        data = null;
      }
      if (resp.status === 429 || (data && data.error === ErrorCode.RATE_LIMITED)) {
        const secs = Number(resp.headers.get('Retry-After')) || 1;
        this._error(`Too many failed attempts. Try again in ${secs} s.`);
      } else {
        this._error((data && data.message) || `Could not log in (HTTP ${resp.status}).`);
      }
    } catch {
      this._error('Cannot reach the server. Check your connection and try again.');
    } finally {
      this.submit.disabled = false;
    }
  }

  _error(text) {
    this.error.textContent = text;
    this.error.hidden = false;
    this.password.focus();
  }
}
