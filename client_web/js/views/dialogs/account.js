// "Your account": display name (others see a change live), password (every other session ends),
// and the sessions: device, address, last active; end any other one, or all others at once.
// Over the HTTP account API (net/account-api.js).

import { h, replaceChildren } from '../dom.js';
import { fullTimeLabel } from '../../model/timeline.js';
import { deviceOf } from '../../model/devices.js';
import { openModal } from './modal.js';

export class AccountDialog {
  /**
   * @param {object} els {dialog, nameForm, display, nameNote, passwordForm, current, next, passwordNote,
   *   sessions, endOthers, sessionsNote}
   * @param {object} api net/account-api.js's functions
   * @param {{renamed(user: object): void}} callbacks renamed: my display name changed
   */
  constructor(els, api, callbacks) {
    this.els = els;
    this.dialog = els.dialog;
    this.api = api;
    this.callbacks = callbacks;
    els.nameForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this._rename();
    });
    els.passwordForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this._password();
    });
    els.endOthers.addEventListener('click', () => this._end(null));
    els.sessions.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-session]');
      if (b) this._end(Number(b.dataset.session));
    });
  }

  /** Open it for `me` ({display}). */
  open(me) {
    this.els.display.value = me.display;
    for (const note of [this.els.nameNote, this.els.passwordNote, this.els.sessionsNote]) this._note(note, '', true);
    this.els.current.value = '';
    this.els.next.value = '';
    openModal(this.dialog, this.els.display);
    this._loadSessions();
  }

  _note(el, text, ok) {
    el.textContent = text;
    el.className = `form-note ${ok ? 'ok' : 'error'}`;
  }

  async _rename() {
    try {
      const { user } = await this.api.setDisplayName(this.els.display.value);
      this._note(this.els.nameNote, 'Saved. Everyone sees your new name now.', true);
      this.callbacks.renamed(user);
    } catch (err) {
      this._note(this.els.nameNote, err.message, false);
    }
  }

  async _password() {
    try {
      const { revoked } = await this.api.changePassword(this.els.current.value, this.els.next.value);
      this.els.current.value = '';
      this.els.next.value = '';
      const others = revoked.length ? ` ${revoked.length} other session${revoked.length === 1 ? ' was' : 's were'} ended.` : '';
      this._note(this.els.passwordNote, `Password changed.${others}`, true);
      this._loadSessions();
    } catch (err) {
      this._note(this.els.passwordNote, err.message, false);
    }
  }

  async _loadSessions() {
    try {
      const { sessions } = await this.api.sessions();
      this._renderSessions(sessions);
    } catch (err) {
      this._note(this.els.sessionsNote, err.message, false);
    }
  }

  _renderSessions(list) {
    replaceChildren(this.els.sessions, list.map((s) => h('li', { class: 'session', dataset: { session: String(s.id), current: s.current ? 'true' : 'false' } },
      h('span', { class: 'session-device' }, deviceOf(s.user_agent, s.kind), s.current ? h('span', { class: 'role' }, 'this one') : null),
      h('span', { class: 'session-meta muted' }, `${s.client_addr || 'unknown address'} · last active `,
        h('time', { datetime: new Date(s.last_seen_at).toISOString() }, fullTimeLabel(s.last_seen_at))),
      s.current ? null : h('button', { type: 'button', class: 'secondary small', dataset: { session: String(s.id) }, 'aria-label': `End the session of ${deviceOf(s.user_agent, s.kind)}` }, 'End'))));
    this.els.endOthers.disabled = !list.some((s) => !s.current);
  }

  async _end(id) {
    try {
      const { revoked } = id === null ? await this.api.endOtherSessions() : await this.api.endSession(id);
      this._note(this.els.sessionsNote, `${revoked.length} session${revoked.length === 1 ? '' : 's'} ended.`, true);
    } catch (err) {
      this._note(this.els.sessionsNote, err.message, false);
    }
    this._loadSessions();
  }
}
