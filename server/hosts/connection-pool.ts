/**
 * The limits on an oracle's SSH connections: at most `max` open at once (a connection
 * being opened counts), and one left idle for `idleCloseMs` is closed. A new connection at
 * the cap closes the idle one unused the longest, or waits in order for one to end: 10,000
 * hosts do not mean 10,000 open connections, and the hosts in use keep theirs.
 *
 * Generic over the caller's link (one per host): the pool only orders and counts them, and
 * asks `close` to end a link's connection (which must then call the release it was given).
 */
export interface ConnectionPoolOptions<L> {
  max: number;
  idleCloseMs: number;
  close: (link: L) => void;
  now?: () => number;
}

export class ConnectionPool<L> {
  private open = 0;
  /** Links with a connection and nothing running on it, the longest unused first. */
  private readonly idleSince = new Map<L, number>();
  private readonly waiters: { grant: () => void }[] = [];
  private sweeper: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: ConnectionPoolOptions<L>) {
    if (!(opts.max >= 1)) throw new RangeError("a connection pool needs room for at least one connection");
    this.now = opts.now ?? Date.now;
  }

  /**
   * Room for one more connection: at once under the cap, else after an idle one is closed
   * or a connection ends, until the deadline. The release gives the room back (once).
   */
  reserve(deadline: number, onTimeout: () => Error): Promise<() => void> {
    if (this.open < this.opts.max) {
      this.open++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          clearTimeout(timer);
          this.open++;
          resolve(this.releaser());
        },
      };
      const timer = setTimeout(
        () => {
          const i = this.waiters.indexOf(entry);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(onTimeout());
        },
        Math.max(0, deadline - this.now()),
      );
      this.waiters.push(entry);
      this.closeOldestIdle();
    });
  }

  /** The link's connection has nothing running now: it may be closed when idle too long, or for a waiter. */
  idle(link: L): void {
    this.idleSince.delete(link);
    if (this.waiters.length > this.pendingCloses) {
      this.pendingCloses++;
      this.opts.close(link);
      return;
    }
    this.idleSince.set(link, this.now());
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), Math.max(100, Math.min(5000, this.opts.idleCloseMs / 2)));
      this.sweeper.unref();
    }
  }

  /** The link is in use (or has no connection any more): not a candidate for closing. */
  busy(link: L): void {
    this.idleSince.delete(link);
  }

  /** Closes the connections idle for idleCloseMs or longer. */
  sweep(): void {
    const cutoff = this.now() - this.opts.idleCloseMs;
    for (const [link, since] of this.idleSince) {
      // Oldest first: the first one idle for less than the limit ends the sweep.
      if (since > cutoff) break;
      this.idleSince.delete(link);
      this.opts.close(link);
    }
  }

  stats(): { open: number; idle: number; waiting: number } {
    return { open: this.open, idle: this.idleSince.size, waiting: this.waiters.length };
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** Idle connections already asked to close for a waiter (their room is promised). */
  private pendingCloses = 0;

  private closeOldestIdle(): void {
    const oldest = this.idleSince.keys().next();
    if (oldest.done) return;
    this.idleSince.delete(oldest.value);
    this.pendingCloses++;
    this.opts.close(oldest.value);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      if (this.pendingCloses > 0) this.pendingCloses--;
      const next = this.waiters.shift();
      if (next) next.grant();
    };
  }
}
