/** Seeded uniform numbers in [0, 1) (mulberry32), so a failing fault run can be replayed. */
export function seededRandom(seed) {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let z = state;
        z = Math.imul(z ^ (z >>> 15), z | 1);
        z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
        return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
    };
}

const ORDER = ["preset", "pstall", "p429", "p500", "p503"];

/**
 * Draws the fault for one call: "preset", "pstall", "p429", "p500", "p503" or null.
 * Exactly one draw per call, so the n-th call's draw depends on the seed alone.
 */
export function drawFault(random, faults) {
    const u = random();
    let threshold = 0;
    for (const name of ORDER) {
        threshold += faults[name];
        if (u < threshold) {
            return name;
        }
    }
    return null;
}
