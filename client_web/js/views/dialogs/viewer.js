// The image viewer: an image of the channel at full size, Previous/Next (the buttons, or ← and
// →), a Download link, and Esc or Close to leave. A native modal <dialog>: focus moves in and
// goes back to the thumbnail that opened it (modal.js).

import { openModal } from './modal.js';
import { fileUrl, formatBytes } from '../../model/files.js';

export class ImageViewer {
  /** @param {{dialog, image, name, count, prev, next, download}} els */
  constructor(els) {
    this.els = els;
    this.dialog = els.dialog;
    this.images = [];
    this.index = 0;
    els.prev.addEventListener('click', () => this.step(-1));
    els.next.addEventListener('click', () => this.step(1));
    els.dialog.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowLeft') this.step(-1);
      else if (ev.key === 'ArrowRight') this.step(1);
      else return;
      ev.preventDefault();
    });
    els.dialog.addEventListener('close', () => els.image.removeAttribute('src'));
  }

  get isOpen() {
    return this.dialog.open;
  }

  /**
   * Show `images[index]` (Files of kind image: {id, name, size, w, h}), in the channel's order.
   */
  open(images, index) {
    if (!images.length) return;
    this.images = images;
    this.show(index);
    openModal(this.dialog, this.els.next.disabled ? this.els.download : this.els.next);
  }

  step(delta) {
    const i = this.index + delta;
    if (i >= 0 && i < this.images.length) this.show(i);
  }

  show(i) {
    const els = this.els;
    this.index = Math.max(0, Math.min(i, this.images.length - 1));
    const f = this.images[this.index];
    els.image.src = fileUrl(f.id);
    els.image.alt = f.name;
    els.image.width = f.w;
    els.image.height = f.h;
    els.name.textContent = f.name;
    els.count.textContent = this.images.length > 1 ? `${this.index + 1} of ${this.images.length} · ${formatBytes(f.size)}` : formatBytes(f.size);
    els.download.href = fileUrl(f.id, { download: true });
    els.download.setAttribute('download', f.name);
    els.prev.disabled = this.index === 0;
    els.next.disabled = this.index === this.images.length - 1;
    els.prev.hidden = els.next.hidden = this.images.length === 1; // nothing to go to
  }
}
