/**
 * Lets a loop sleep until something worth looking at happens (a probe result, a background action
 * ending) or a timeout passes, whichever is first. A wake with nobody waiting is kept for the next
 * wait, so news that arrives while the loop is busy is not lost.
 */
export class Waker {
  private pending = false;
  private resolve: (() => void) | undefined;

  /** Ends the current wait at once, or the next one if none is running. */
  wake(): void {
    if (this.resolve === undefined) {
      this.pending = true;
      return;
    }
    const r = this.resolve;
    this.resolve = undefined;
    r();
  }

  /** Resolves on the next wake (or a pending one), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.resolve = undefined;
        resolve();
      }, ms);
      this.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
