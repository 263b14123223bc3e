// "New channel": name, description, public or private. A public name that is taken offers to
// join that channel; a private one just says the name is taken (nothing about it leaks).

import { h, replaceChildren } from '../dom.js';
import { errorText } from '../error-text.js';
import { ErrorCode } from '../../net/codes.js';
import { openModal } from './modal.js';

export class ChannelCreator {
  /**
   * @param {{dialog: HTMLDialogElement, form: HTMLFormElement, name: HTMLInputElement, description: HTMLInputElement, private: HTMLInputElement, error: HTMLElement, submit: HTMLButtonElement}} els
   * @param {object} callbacks
   * @param {(fields: object) => Promise<object>} callbacks.create the `channel.create` request;
   *   resolves with the new Channel (already added to the model)
   * @param {(ch: number) => Promise<void>} callbacks.join
   * @param {(ch: number) => void} callbacks.open
   */
  constructor(els, callbacks) {
    this.els = els;
    this.dialog = els.dialog;
    this.callbacks = callbacks;
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this._create();
    });
  }

  open(name = '') {
    this.els.form.reset();
    this.els.name.value = name;
    this._showError(null);
    openModal(this.dialog, this.els.name);
  }

  _showError(content) {
    const error = this.els.error;
    if (!content) {
      error.hidden = true;
      error.replaceChildren();
      return;
    }
    replaceChildren(error, ...[content].flat());
    error.hidden = false;
  }

  async _create() {
    const { name: nameInput, description, submit } = this.els;
    const name = nameInput.value.trim();
    if (!name) {
      this._showError('Give the channel a name.');
      nameInput.focus();
      return;
    }
    const fields = { name, private: this.els.private.checked };
    if (description.value.trim()) fields.description = description.value.trim();
    submit.disabled = true;
    this._showError(null);
    try {
      const channel = await this.callbacks.create(fields);
      this.dialog.close();
      this.callbacks.open(channel.id);
    } catch (err) {
      if (err.code === ErrorCode.NAME_TAKEN && err.existing !== undefined) {
        this._offerJoin(name, err.existing);
      } else if (err.code === ErrorCode.NAME_TAKEN) {
        this._showError(`The name “${name}” is taken. Pick another one.`);
        nameInput.focus();
      } else {
        this._showError(errorText(err));
        nameInput.focus();
      }
    } finally {
      submit.disabled = false;
    }
  }

  _offerJoin(name, existing) {
    const join = h('button', { type: 'button', id: 'create-join-existing', class: 'secondary' }, `Join #${name}`);
    join.addEventListener('click', async () => {
      join.disabled = true;
      try {
        await this.callbacks.join(existing);
        this.dialog.close();
        this.callbacks.open(existing);
      } catch (joinErr) {
        this._showError(errorText(joinErr));
      }
    });
    this._showError([h('span', {}, `A public channel named “${name}” already exists. `), join]);
    join.focus();
  }
}
