// A minimal synchronous event emitter. Pure: no DOM, works in Node for the unit tests.

/** Listeners by event name; `on` returns the function that removes the listener. */
export class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._listeners = new Map();
  }

  /**
   * Call `fn(arg)` on every `emit(type, arg)` until the returned function is called.
   * @param {string} type
   * @param {(arg: any) => void} fn
   * @returns {() => void}
   */
  on(type, fn) {
    let set = this._listeners.get(type);
    if (!set) {
      set = new Set();
      this._listeners.set(type, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /**
   * Call the listeners of `type` in the order they were added. A listener that throws does not
   * stop the others: the error is reported asynchronously (as an uncaught error) instead, so a bug
   * in one view cannot break the connection's bookkeeping.
   */
  emit(type, arg) {
    const set = this._listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(arg);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
