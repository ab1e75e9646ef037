// One lock per SQLite file in this process, shared by every store that opens the file and held
// for a statement, a batch of writes or a whole transaction: see sqlite.ts for why.

/** A FIFO async lock. */
export class Lock {
  #held = false;
  readonly #waiters: Array<() => void> = [];

  /** Takes the lock if it is free, without waiting: the synchronous fast path. */
  tryLock(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }

  async lock(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next === undefined) this.#held = false;
    else next(); // handed over: stays held
  }
}

/** One lock per resolved file path, for as long as a store has that file open. */
export const fileLocks = {
  entries: new Map<string, { lock: Lock; users: number }>(),
  acquire(key: string): Lock {
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { lock: new Lock(), users: 0 };
      this.entries.set(key, entry);
    }
    entry.users++;
    return entry.lock;
  },
  release(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined && --entry.users === 0) this.entries.delete(key);
  },
};
