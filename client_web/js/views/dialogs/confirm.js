// A question with two answers, for what cannot be undone (deleting a message): resolves true when
// the user confirms, false when they cancel (the button, Esc or the backdrop).

import { openModal } from './modal.js';

export class ConfirmDialog {
  /** @param {{dialog: HTMLDialogElement, text: HTMLElement, ok: HTMLButtonElement, cancel: HTMLButtonElement}} els */
  constructor(els) {
    this.els = els;
    this.dialog = els.dialog;
    this._answer = null;
    els.ok.addEventListener('click', () => this._close(true));
    els.cancel.addEventListener('click', () => this._close(false));
    els.dialog.addEventListener('close', () => this._close(false));
  }

  /** Ask `text`; `action` names the confirming button ("Delete"). */
  ask(text, action) {
    this._close(false);
    this.els.text.textContent = text;
    this.els.ok.textContent = action;
    openModal(this.dialog, this.els.cancel);
    return new Promise((resolve) => {
      this._answer = resolve;
    });
  }

  _close(value) {
    const answer = this._answer;
    this._answer = null;
    if (this.dialog.open) this.dialog.close();
    answer?.(value);
  }
}
