// The message box: Enter sends, Shift+Enter is a new line (Enter that confirms an IME
// composition does not send); it grows with its text; it shows why a message was refused.

const MAX_HEIGHT_PX = 240;

export class Composer {
  /**
   * @param {{form: HTMLFormElement, input: HTMLTextAreaElement, send: HTMLButtonElement, error: HTMLElement, label: HTMLElement}} els
   * @param {{submit(): void, edited(): void}} callbacks submit: Enter or the Send button;
   *   edited: the text changed
   */
  constructor(els, callbacks) {
    this.els = els;
    this.input = els.input;
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      callbacks.submit();
    });
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        callbacks.submit();
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
