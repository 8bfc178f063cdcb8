/**
 * Runs work per key one at a time: asked again while it runs, it runs once more after, however
 * many times it was asked. A burst of webhooks about one promotion syncs it at most twice.
 */
export class WorkCoalescer {
  private readonly running = new Map<string, { again: boolean }>();

  constructor(
    private readonly onError: (key: string, error: unknown) => void,
  ) {}

  /** Asks for `work` under `key`, without waiting for it. */
  request(key: string, work: () => Promise<void>): void {
    const current = this.running.get(key);
    if (current) {
      current.again = true;
      return;
    }
    const state = { again: false };
    this.running.set(key, state);
    void (async () => {
      try {
        do {
          state.again = false;
          try {
            await work();
          } catch (error) {
            this.onError(key, error);
          }
        } while (state.again);
      } finally {
        this.running.delete(key);
      }
    })();
  }

  /** Resolves when nothing is running: for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.running.size > 0) {
      await new Promise(resolve => setTimeout(resolve, 10));
    }
  }
}
