import { TokenRefreshError, type RefreshFunction, type TypeOrmStorage, type UserId } from '../../src';
import { explain } from './explain';
import { grantRefused } from './oauth-client';
import type { SessionUser } from './token-store';

/** What the job renews, and how often. */
export interface RefreshJobOptions {
  /** The app's storage: the job names each user explicitly, since no request (and so no `currentUser`) is running. */
  storage: TypeOrmStorage<SessionUser>;
  provider: string;
  /** The refresh function for one user's token. */
  refresh: (userId: UserId) => RefreshFunction;
  /** Seconds from the end of one run to the start of the next. */
  intervalSeconds: number;
  /**
   * Renews tokens that expire within this many seconds: the storage's
   * `refreshLeewaySeconds`, so that `getValid` agrees they are due.
   */
  withinSeconds: number;
  /** Most tokens one run looks at; the others wait for the next run. */
  limit: number;
}

/**
 * Renews tokens before they expire, so requests seldom wait for the provider:
 * every `intervalSeconds` it asks `findExpiring` for tokens about to expire
 * and calls `getValid` for each. A request that needs one of them at the same
 * moment joins that renewal instead of starting another one.
 */
export class RefreshJob {
  readonly #options: RefreshJobOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: RefreshJobOptions) {
    this.#options = options;
    this.#schedule();
  }

  /** Stops the schedule and waits for a run under way, so nothing touches the database after shutdown. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  // A timeout armed after each run, rather than setInterval: a slow run never overlaps the next one.
  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#running = this.#run().finally(() => {
        this.#running = undefined;
        if (!this.#stopped) this.#schedule();
      });
    }, this.#options.intervalSeconds * 1000);
  }

  async #run(): Promise<void> {
    const { storage, provider, refresh, withinSeconds, limit } = this.#options;
    try {
      const due = await storage.findExpiring(withinSeconds, { provider, limit });
      // One at a time: the provider sees a steady trickle of refreshes rather than a burst.
      for (const { userId } of due) {
        if (this.#stopped) return;
        if (userId === null) continue; // the demo keeps no app-wide token
        try {
          await storage.getValid(provider, refresh(userId), { userId });
        } catch (error) {
          if (!(error instanceof TokenRefreshError)) throw error;
          const outcome = grantRefused(error)
            ? 'Demo ID refused (invalid_grant), so it was deleted: they must connect again'
            : `${explain(error.cause)}; it was kept, and the next run tries again`;
          console.warn(`Refresh job: could not renew user #${userId}'s token: ${outcome}`);
        }
      }
    } catch (error) {
      console.error(`Refresh job: this run failed: ${explain(error)}`);
    }
  }
}
