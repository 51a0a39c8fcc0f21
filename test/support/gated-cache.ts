import type { CacheLike } from '../../src';

/**
 * Wraps a cache so a test can hold its writes: while closed, every `set` waits
 * until `open()`, after calling `onHeld`. That forces the interleaving where a
 * reader that missed the cache fills it only after a writer has finished.
 */
export class GatedCache implements CacheLike {
  #closed = false;
  #waiting: Array<() => void> = [];

  constructor(
    private readonly inner: CacheLike,
    private readonly onHeld: () => void = () => {},
  ) {}

  close(): void {
    this.#closed = true;
  }

  open(): void {
    this.#closed = false;
    for (const release of this.#waiting.splice(0)) release();
  }

  get(key: string): unknown {
    return this.inner.get(key);
  }

  async set(key: string, value: string, ttl?: number): Promise<unknown> {
    if (this.#closed) {
      const released = new Promise<void>((resolve) => this.#waiting.push(resolve));
      this.onHeld();
      await released;
    }
    return this.inner.set(key, value, ttl);
  }

  delete(key: string): unknown {
    return this.inner.delete ? this.inner.delete(key) : this.inner.del!(key);
  }
}
