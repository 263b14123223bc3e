// "Log in again", shown over the app when the session ended. It cannot be dismissed (nothing
// could be sent without a session); the draft and the outbox stay as they are meanwhile.

import { ErrorCode } from '../../net/codes.js';
import { openModal } from './modal.js';

export class LoginDialog {
  /**
   * @param {{dialog: HTMLDialogElement, form: HTMLFormElement, username: HTMLInputElement, password: HTMLInputElement, error: HTMLElement, submit: HTMLButtonElement, why: HTMLElement}} els
   * @param {object} callbacks
   * @param {(username: string, password: string) => Promise<Response>} callbacks.logIn the
   *   log-in request (rejects when the server cannot be reached)
   * @param {(username: string) => void} callbacks.loggedIn the new session cookie is set
   */
  constructor(els, callbacks) {
    this.els = els;
    this.dialog = els.dialog;
    this.callbacks = callbacks;
    // Esc must not leave the app in a state where nothing can be sent.
    this.dialog.addEventListener('cancel', (ev) => ev.preventDefault());
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this._login();
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  open(username, why) {
    const { error, password } = this.els;
    if (why) this.els.why.textContent = why;
    error.hidden = true;
    if (this.dialog.open) return;
    this.els.username.value = username || '';
    password.value = '';
    openModal(this.dialog, username ? password : this.els.username);
  }

  async _login() {
    const { submit, error, password } = this.els;
    const username = this.els.username.value.trim();
    if (!username || !password.value) {
      this._error('Enter your username and password.');
      return;
    }
    submit.disabled = true;
    error.hidden = true;
    try {
      const resp = await this.callbacks.logIn(username, password.value);
      if (resp.ok) {
        password.value = '';
        this.dialog.close();
        this.callbacks.loggedIn(username);
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
      submit.disabled = false;
    }
  }

  _error(text) {
    this.els.error.textContent = text;
    this.els.error.hidden = false;
    this.els.password.focus();
  }
}
