// The connection banner (role="status"): "connecting…", "offline — retrying in 4 s" with
// "Retry now", "session expired — log in to continue"; nothing while online.

const COUNTDOWN_MS = 1000;

export class ConnectionStatus {
  /**
   * @param {{app: HTMLElement, text: HTMLElement, retry: HTMLButtonElement}} els
   * @param {object} callbacks
   * @param {() => {status: string, retryInSecs: number, lastClose: {code: number, reason: string}}} callbacks.state
   * @param {() => void} callbacks.retryNow
   */
  constructor(els, callbacks) {
    this.els = els;
    this.callbacks = callbacks;
    this._timer = null;
    els.retry.addEventListener('click', () => callbacks.retryNow());
  }

  render() {
    const { status, retryInSecs, lastClose } = this.callbacks.state();
    const els = this.els;
    els.app.dataset.status = status;
    const waiting = status === 'offline' || status === 'failed';
    const secs = Math.max(1, retryInSecs);
    let text = '';
    if (status === 'connecting' || status === 'stopped') text = 'connecting…';
    else if (status === 'offline') text = `offline — retrying in ${secs} s`;
    else if (status === 'failed') text = `cannot connect (${lastClose.reason || lastClose.code}) — retrying in ${secs} s`;
    else if (status === 'expired') text = 'session expired — log in to continue';
    if (els.text.textContent !== text) els.text.textContent = text;
    els.retry.hidden = !waiting;
    // Count down while waiting to retry.
    clearTimeout(this._timer);
    if (waiting) this._timer = setTimeout(() => this.render(), COUNTDOWN_MS);
  }
}
