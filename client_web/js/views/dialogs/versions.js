// "(edited)": the earlier versions of a message, oldest first, under the current one — shown as
// text (never markup), each with when it was written.

import { h, replaceChildren } from '../dom.js';
import { errorText } from '../error-text.js';
import { fullTimeLabel } from '../../model/timeline.js';
import { openModal } from './modal.js';

export class VersionsDialog {
  /** @param {{dialog: HTMLDialogElement, list: HTMLElement}} els */
  constructor(els) {
    this.els = els;
    this.dialog = els.dialog;
  }

  /**
   * Open it for message `m` (as held: its current text); `load()` fetches the earlier versions
   * (the `versions` reply's list).
   */
  async open(m, load) {
    replaceChildren(this.els.list, h('li', { class: 'muted' }, 'Loading…'));
    openModal(this.dialog, null);
    const item = (label, body, ts) => h('li', { class: 'version' },
      h('p', { class: 'version-head' }, h('strong', {}, label), ' ', h('time', { datetime: new Date(ts).toISOString() }, fullTimeLabel(ts))),
      h('p', { class: 'version-body', dir: 'auto' }, body));
    try {
      const versions = await load();
      replaceChildren(this.els.list,
        item('Now', m.body, m.edited || m.ts),
        ...[...versions].reverse().map((v) => item(v.v === 1 ? 'Original' : `Version ${v.v}`, v.body, v.ts)));
    } catch (err) {
      replaceChildren(this.els.list, h('li', { class: 'form-error' }, errorText(err)));
    }
  }
}
