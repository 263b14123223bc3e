// The message box: Enter sends, Shift+Enter is a new line (Enter that confirms an IME
// composition does not send); it grows with its text; it shows why a message was refused.
// Files (when the server takes them) come by the attach button, a paste, or a drop anywhere on
// the conversation; they wait under the box, each with a remove button, until the message goes.
// `@` opens the mention picker (mention-picker.js). Editing a message happens here too: a bar
// above the box says so, Enter saves, Esc cancels; ↑ in an empty box edits my last message.

import { h, replaceChildren } from './dom.js';
import { formatBytes } from '../model/files.js';
import { MentionPicker } from './mention-picker.js';

const MAX_HEIGHT_PX = 240;

function hasFiles(ev) {
  return Boolean(ev.dataTransfer) && [...ev.dataTransfer.types].includes('Files');
}

export class Composer {
  /**
   * @param {{form: HTMLFormElement, input: HTMLTextAreaElement, send: HTMLButtonElement, error: HTMLElement, label: HTMLElement,
   *   attach: HTMLButtonElement, fileInput: HTMLInputElement, staged: HTMLElement, dropZone: HTMLElement, dropHint: HTMLElement}} els
   * @param {{submit(): void, edited(): void, attach(files: File[]): void, unstage(local: string): void,
   *   editLast(): boolean, cancelEdit(): void, members(): Array<object>|null, presence(id: number): string}} callbacks
   *   submit: Enter or the Send button; edited: the text changed; attach: files were chosen,
   *   pasted or dropped; unstage: a waiting file was removed; editLast: ↑ in the empty box
   *   (true if a message is being edited now); cancelEdit: Esc or the bar's Cancel while editing;
   *   members, presence: for the mention picker
   */
  constructor(els, callbacks) {
    this.els = els;
    this.input = els.input;
    this.filesEnabled = false;
    this.editing = false;
    this.picker = new MentionPicker(els.input, els.mentions, {
      members: () => callbacks.members(),
      presence: (id) => callbacks.presence(id),
      inserted: () => {
        this._autosize();
        callbacks.edited();
      },
    });
    this._wireFiles(callbacks);
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      callbacks.submit();
    });
    els.cancelEdit.addEventListener('click', () => callbacks.cancelEdit());
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        callbacks.submit();
      } else if (ev.key === 'ArrowUp' && !this.editing && this.input.value === '' && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        if (callbacks.editLast()) ev.preventDefault();
      } else if (ev.key === 'Escape' && this.editing) {
        ev.preventDefault();
        ev.stopPropagation();
        callbacks.cancelEdit();
      }
    });
    this.input.addEventListener('input', () => {
      this._autosize();
      this.showError(null);
      callbacks.edited();
    });
  }

  get value() {
    return this.input.value;
  }

  /** Replace the text (a channel's draft, or "" after sending). */
  setValue(text) {
    this.input.value = text;
    this._autosize();
  }

  get disabled() {
    return this.input.disabled;
  }

  /**
   * Show that the box edits a message (`label`: whose, for the bar) with `text` in it, or (null)
   * that it writes a new one again.
   */
  setEditing(label, text = '') {
    this.editing = label !== null;
    this.els.editBar.hidden = !this.editing;
    this.els.form.classList.toggle('editing', this.editing);
    this.els.send.textContent = this.editing ? 'Save' : 'Send';
    if (this.editing) {
      this.els.editLabel.textContent = label;
      this.setValue(text);
      this.input.setSelectionRange(text.length, text.length);
    }
    this.showError(null);
  }

  /** A channel is open: writing is possible. */
  enable() {
    this.input.disabled = false;
    this.els.send.disabled = false;
  }

  /** Name the channel the box writes to (channel record `c`). */
  describe(c) {
    this.input.placeholder = `Message ${c.private ? '' : '#'}${c.name}`;
    this.els.label.textContent = `Message ${c.name}`;
  }

  focus() {
    this.input.focus();
  }

  /** Offer attaching files (the server takes them). */
  enableFiles(on) {
    this.filesEnabled = on;
    this.els.attach.hidden = !on;
  }

  /** The files waiting to go with the next message: [{local, name, size}]. */
  renderStaged(files) {
    const list = this.els.staged;
    list.hidden = files.length === 0;
    replaceChildren(
      list,
      files.map((f) =>
        h(
          'span',
          { class: 'staged-file', dataset: { local: f.local } },
          h('bdi', { class: 'file-name', dir: 'auto' }, f.name),
          ' ',
          h('span', { class: 'file-size' }, formatBytes(f.size)),
          h('button', { type: 'button', class: 'icon-button staged-remove', dataset: { local: f.local }, 'aria-label': `Remove ${f.name}`, title: 'Remove' }, h('span', { 'aria-hidden': 'true' }, '✕')),
        ),
      ),
    );
  }

  _wireFiles(callbacks) {
    const { attach, fileInput, staged, dropZone, dropHint } = this.els;
    attach.addEventListener('click', () => fileInput.click());
    fileInput.addEventListener('change', () => {
      const files = [...fileInput.files];
      fileInput.value = ''; // choosing the same file again is a change too
      if (files.length) callbacks.attach(files);
    });
    staged.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-local]');
      if (button) callbacks.unstage(button.dataset.local);
    });
    this.input.addEventListener('paste', (ev) => {
      const files = [...(ev.clipboardData?.files ?? [])];
      if (!this.filesEnabled || !files.length) return;
      ev.preventDefault(); // an image on the clipboard is a file, not text
      callbacks.attach(files);
    });
    let depth = 0; // dragenter/dragleave fire for every child crossed
    dropZone.addEventListener('dragenter', (ev) => {
      if (!this.filesEnabled || !hasFiles(ev)) return;
      depth++;
      dropHint.hidden = false;
    });
    dropZone.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (!depth) dropHint.hidden = true;
    });
    dropZone.addEventListener('dragover', (ev) => {
      if (!this.filesEnabled || !hasFiles(ev)) return;
      ev.preventDefault(); // allows the drop
      ev.dataTransfer.dropEffect = 'copy';
    });
    dropZone.addEventListener('drop', (ev) => {
      depth = 0;
      dropHint.hidden = true;
      if (!this.filesEnabled || !hasFiles(ev)) return;
      ev.preventDefault();
      callbacks.attach([...ev.dataTransfer.files]);
    });
  }

  showError(text) {
    const el = this.els.error;
    el.hidden = !text;
    el.textContent = text ?? '';
  }

  _autosize() {
    const input = this.input;
    // element.style is CSSOM, which the CSP allows (it forbids style attributes in markup).
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
  }
}
