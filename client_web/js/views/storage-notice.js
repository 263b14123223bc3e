// For admins: the server's file storage is low and uploads may be refused (the `storage`
// push, PROTOCOL.md §6); hidden again when it is fine.

import { formatBytes } from '../model/files.js';

export class StorageNotice {
  /** @param {{notice: HTMLElement}} els */
  constructor(els) {
    this.el = els.notice;
  }

  /** @param {{state: string, free_bytes: number, reserve_bytes: number}|null} storage */
  render(storage) {
    const low = storage !== null && storage.state === 'low';
    this.el.hidden = !low;
    this.el.textContent = low
      ? `File storage is low: uploads may be refused (${formatBytes(storage.free_bytes)} free, ${formatBytes(storage.reserve_bytes)} kept in reserve). Free some space (chatd files gc removes what is no longer needed) or grow the disk. Text messages still work.`
      : '';
  }
}
