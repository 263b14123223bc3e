// The account corner of the sidebar: who I am, "Account" (the account dialog), "Theme:
// auto/light/dark", "Log out".

import { nextTheme } from '../model/prefs.js';

/** Force `theme` on the page ("auto" follows prefers-color-scheme). */
export function applyTheme(root, theme) {
  if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
  else delete root.dataset.theme;
}

export class Account {
  /**
   * @param {{display: HTMLElement, name: HTMLElement, theme: HTMLButtonElement, logout: HTMLButtonElement, open: HTMLButtonElement, root: HTMLElement}} els
   * @param {{theme(): string, chooseTheme(theme: string): void, logout(): void, open(): void}} callbacks
   *   theme: the current choice; chooseTheme: remember the next one; open: the account dialog
   */
  constructor(els, callbacks) {
    this.els = els;
    els.open.addEventListener('click', () => callbacks.open());
    this._showTheme(callbacks.theme());
    els.theme.addEventListener('click', () => {
      const next = nextTheme(callbacks.theme());
      callbacks.chooseTheme(next);
      applyTheme(els.root, next);
      this._showTheme(next);
    });
    els.logout.addEventListener('click', () => callbacks.logout());
  }

  /** Show the user `me` ({name, display}). */
  render(me) {
    this.els.display.textContent = me.display;
    this.els.name.textContent = me.name;
  }

  _showTheme(theme) {
    this.els.theme.textContent = `Theme: ${theme}`;
  }
}
