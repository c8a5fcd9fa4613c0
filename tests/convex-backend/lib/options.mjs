import { parseArgs } from "node:util";

export const USAGE = `usage: node server.mjs [options]
  --host H            address to bind (default 127.0.0.1)
  --port N            port to bind, 0 picks a free one (default 0)
  --fast              sha256 password hashing instead of scrypt (volume tests)
  --redact            production-style error messages: "[Request ID: ...] Server Error"
  --legacy-560        answer function errors with HTTP 560, as older backends did
  --latency-ms N      delay every function call by N ms while it holds a slot
  --max-concurrent N  run at most N function calls at once (0: no limit)
  --queue-ms M        how long a call waits for a slot before 429 (default 10000)
  --p429 X --p500 X --p503 X
                      probability of answering a call with that status, unexecuted
  --preset X          probability of resetting the connection instead of answering
  --pstall X          probability of never answering (see --stall-ms)
  --stall-ms N        answer stalled calls after N ms instead of never (default 0: never)
  --seed N            seed for the fault draws (default: random, printed to stderr)
  --tls-cert F --tls-key F
                      serve HTTPS with this PEM certificate and key
  --admin-key K       accept only "Authorization: Convex K" as admin (default: any key)
  --keep-alive-ms N   idle keep-alive connection timeout (default 60000)
  --count-emails      count sign-up calls per email in /stats (signUpsByEmail)
  --verbose           log every call and the functions' console output to stderr
  --no-index          keep convex-test's full table scans (only to measure their cost)
  --exit-with-stdin   exit when standard input closes (so a killed test leaves no server)`;

const SPEC = {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    fast: { type: "boolean", default: false },
    redact: { type: "boolean", default: false },
    "legacy-560": { type: "boolean", default: false },
    "latency-ms": { type: "string", default: "0" },
    "max-concurrent": { type: "string", default: "0" },
    "queue-ms": { type: "string", default: "10000" },
    p429: { type: "string", default: "0" },
    p500: { type: "string", default: "0" },
    p503: { type: "string", default: "0" },
    preset: { type: "string", default: "0" },
    pstall: { type: "string", default: "0" },
    "stall-ms": { type: "string", default: "0" },
    seed: { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "admin-key": { type: "string" },
    "keep-alive-ms": { type: "string", default: "60000" },
    "count-emails": { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    "no-index": { type: "boolean", default: false },
    "exit-with-stdin": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
};

/** A start-up error an operator can act on; server.mjs prints it with the usage text. */
export class OptionError extends Error {}

function integer(values, name, max = Number.MAX_SAFE_INTEGER) {
    const text = values[name];
    const value = Number(text);
    if (!/^\d+$/.test(text) || value > max) {
        throw new OptionError(`--${name}: expected an integer from 0 to ${max}, got "${text}"`);
    }
    return value;
}

function probability(values, name) {
    const value = Number(values[name]);
    if (values[name].trim() === "" || !(value >= 0 && value <= 1)) {
        const text = values[name];
        throw new OptionError(`--${name}: expected a probability from 0 to 1, got "${text}"`);
    }
    return value;
}

function faultOptions(values) {
    const faults = {
        p429: probability(values, "p429"),
        p500: probability(values, "p500"),
        p503: probability(values, "p503"),
        preset: probability(values, "preset"),
        pstall: probability(values, "pstall"),
    };
    const total = Object.values(faults).reduce((sum, p) => sum + p, 0);
    if (total > 1) {
        throw new OptionError(`fault probabilities add up to ${total}, more than 1`);
    }
    return faults;
}

function tlsOptions(values) {
    const cert = values["tls-cert"];
    const key = values["tls-key"];
    if ((cert === undefined) !== (key === undefined)) {
        throw new OptionError("--tls-cert and --tls-key must be given together");
    }
    return cert === undefined ? null : { cert, key };
}

/** Parses argv (without node and script) into the server's configuration. */
export function parseOptions(argv) {
    let values;
    try {
        ({ values } = parseArgs({ args: argv, options: SPEC, strict: true }));
    } catch (error) {
        throw new OptionError(error.message);
    }
    const seed = values.seed === undefined
        ? Math.floor(Math.random() * 2 ** 32)
        : integer(values, "seed", 2 ** 32 - 1);
    return {
        help: values.help,
        host: values.host,
        port: integer(values, "port", 65535),
        fast: values.fast,
        redact: values.redact,
        legacy560: values["legacy-560"],
        latencyMs: integer(values, "latency-ms"),
        maxConcurrent: integer(values, "max-concurrent"),
        queueMs: integer(values, "queue-ms"),
        faults: faultOptions(values),
        stallMs: integer(values, "stall-ms"),
        seed,
        tls: tlsOptions(values),
        adminKey: values["admin-key"] ?? null,
        keepAliveMs: integer(values, "keep-alive-ms"),
        countEmails: values["count-emails"],
        verbose: values.verbose,
        index: !values["no-index"],
        exitWithStdin: values["exit-with-stdin"],
    };
}
