function zeroCounters() {
    return {
        requests: 0,
        connections: 0,
        inFlight: 0,
        maxInFlight: 0,
        maxRunning: 0,
        byStatus: {},
        injected: { preset: 0, pstall: 0, p429: 0, p500: 0, p503: 0 },
        limited: 0,
        calls: {},
        results: { success: 0, error: 0 },
        signUps: { ok: 0, error: 0 },
        authorization: { none: 0, admin: 0, bearer: 0, other: 0 },
    };
}

/**
 * Counters that tests read through GET /stats. `inFlight` counts function calls the server
 * has received and not yet answered (queued ones included); `maxRunning` is the most calls
 * that held a slot at once. With `countEmails`, `signUpsByEmail` counts the sign-up calls
 * that ran, per email (a fault injected before the call ran does not count); it is off by
 * default because it grows with every email. Single-threaded, so plain increments are enough.
 */
export class Stats {
    #counters;
    #countEmails;

    constructor({ countEmails = false } = {}) {
        this.#countEmails = countEmails;
        this.#counters = this.#fresh();
    }

    #fresh() {
        const counters = zeroCounters();
        if (this.#countEmails) {
            counters.signUpsByEmail = {};
        }
        return counters;
    }

    get counters() {
        return this.#counters;
    }

    reset() {
        const inFlight = this.#counters.inFlight;
        this.#counters = this.#fresh();
        this.#counters.inFlight = inFlight;
    }

    enter() {
        const c = this.#counters;
        c.requests += 1;
        c.inFlight += 1;
        c.maxInFlight = Math.max(c.maxInFlight, c.inFlight);
    }

    leave() {
        this.#counters.inFlight -= 1;
    }

    running(n) {
        this.#counters.maxRunning = Math.max(this.#counters.maxRunning, n);
    }

    status(code) {
        const byStatus = this.#counters.byStatus;
        byStatus[code] = (byStatus[code] ?? 0) + 1;
    }

    call(udfPath, ok, signUpEmail) {
        const c = this.#counters;
        c.calls[udfPath] = (c.calls[udfPath] ?? 0) + 1;
        c.results[ok ? "success" : "error"] += 1;
        if (signUpEmail !== null) {
            c.signUps[ok ? "ok" : "error"] += 1;
        }
        if (signUpEmail !== null && c.signUpsByEmail !== undefined) {
            const key = String(signUpEmail);
            c.signUpsByEmail[key] = (c.signUpsByEmail[key] ?? 0) + 1;
        }
    }
}
