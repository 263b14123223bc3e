// Below 48 rem the sidebar is a drawer: ☰ opens it (focus goes to the filter), the scrim or Esc
// closes it.

export class Drawer {
  /** @param {{app: HTMLElement, menu: HTMLButtonElement, scrim: HTMLElement, filter: HTMLInputElement}} els */
  constructor(els) {
    this.els = els;
    els.menu.addEventListener('click', () => (this.isOpen ? this.close() : this.open()));
    els.scrim.addEventListener('click', () => this.close());
  }

  get isOpen() {
    return this.els.app.classList.contains('nav-open');
  }

  open() {
    this.els.app.classList.add('nav-open');
    this.els.menu.setAttribute('aria-expanded', 'true');
    this.els.scrim.hidden = false;
    this.els.filter.focus();
  }

  close() {
    if (!this.isOpen) return;
    this.els.app.classList.remove('nav-open');
    this.els.menu.setAttribute('aria-expanded', 'false');
    this.els.scrim.hidden = true;
  }

  /** Close it and give the focus back to ☰ (Esc). */
  dismiss() {
    this.close();
    this.els.menu.focus();
  }
}
