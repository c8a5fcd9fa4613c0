/**
 * Concurrency slots with a bounded wait, the way Convex admits function calls: a call beyond
 * `max` queues in arrival order for up to `queueMs`, then is refused (the caller answers 429).
 * A `max` of 0 admits everything at once.
 */
export class SlotLimiter {
    #max;
    #queueMs;
    #running = 0;
    #waiters = [];

    constructor(max, queueMs) {
        this.#max = max;
        this.#queueMs = queueMs;
    }

    get running() {
        return this.#running;
    }

    /** Resolves true once the caller holds a slot (it must call release), false on timeout. */
    acquire() {
        if (this.#max === 0 || this.#running < this.#max) {
            this.#running += 1;
            return Promise.resolve(true);
        }
        return new Promise((resolve) => {
            const waiter = { resolve, timer: null };
            waiter.timer = setTimeout(() => this.#expire(waiter), this.#queueMs);
            this.#waiters.push(waiter);
        });
    }

    release() {
        const next = this.#waiters.shift();
        if (next === undefined) {
            this.#running -= 1;
            return;
        }
        // The slot passes straight to the oldest waiter, so a newcomer cannot overtake it.
        clearTimeout(next.timer);
        next.resolve(true);
    }

    #expire(waiter) {
        const index = this.#waiters.indexOf(waiter);
        if (index !== -1) {
            this.#waiters.splice(index, 1);
            waiter.resolve(false);
        }
    }
}
