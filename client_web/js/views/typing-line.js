// The "Ann is typing…" line under the messages.

import { typingText } from '../model/typing.js';

export class TypingLine {
  /** @param {{line: HTMLElement}} els */
  constructor(els) {
    this.line = els.line;
  }

  /** @param {string[]} names who is typing in the open channel */
  render(names) {
    const text = typingText(names);
    if (this.line.textContent !== text) this.line.textContent = text;
  }
}
