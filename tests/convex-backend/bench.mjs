// Measures sign-ups per second through the HTTP API (sha256 hashing unless --scrypt), one at a
// time or concurrently, per block of 1,000 so a slowdown as the tables grow shows up.
// Usage: node bench.mjs [--count 10000] [--concurrency 32] [--block 1000] [-- server flags]
//        node bench.mjs --url http://127.0.0.1:PORT [--prefix p] ...  (a server already running)
import http from "node:http";
import { parseArgs } from "node:util";
import { listAccounts, startBackend } from "../integration/backend.mjs";

const { values, positionals } = parseArgs({
    options: {
        count: { type: "string", default: "10000" },
        concurrency: { type: "string", default: "1" },
        block: { type: "string", default: "1000" },
        url: { type: "string" },
        prefix: { type: "string", default: "user" },
        scrypt: { type: "boolean", default: false },
    },
    allowPositionals: true,
});
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const block = Number(values.block);

// One keep-alive connection per worker, as the importer uses them.
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function signUp(url, email) {
    const body = JSON.stringify({
        path: "auth:signIn",
        args: { provider: "password", params: { email, password: "password1", flow: "signUp" } },
        format: "json",
    });
    return new Promise((resolve, reject) => {
        const req = http.request(`${url}/api/action`, {
            method: "POST", agent,
            headers: { "Content-Type": "application/json", "Content-Length": body.length },
        }, (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks)).status));
        });
        req.on("error", reject);
        req.end(body);
    });
}

const backend = values.url === undefined
    ? await startBackend({ fast: !values.scrypt, extraArgs: positionals })
    : { url: values.url, stats: async () => ({}), stop: async () => {} };
try {
    let next = 0;
    let done = 0;
    let blockStart = performance.now();
    const started = blockStart;
    const rates = [];
    const worker = async () => {
        while (next < count) {
            const email = `${values.prefix}${next++}@example.com`;
            const status = await signUp(backend.url, email);
            if (status !== "success") {
                throw new Error(`sign-up of ${email} answered ${status}`);
            }
            done += 1;
            if (done % block === 0) {
                const now = performance.now();
                rates.push(Math.round(block / ((now - blockStart) / 1000)));
                blockStart = now;
            }
        }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    const accounts = (await listAccounts(backend.url)).length;
    const stats = await backend.stats();
    const memory = Math.round(process.memoryUsage().rss / 2 ** 20);
    console.log(JSON.stringify({
        count, concurrency, seconds: Number(seconds.toFixed(2)),
        perSecond: Math.round(count / seconds), perBlock: rates, accounts,
        maxRunning: stats.maxRunning, connections: stats.connections, benchRssMiB: memory,
    }));
} finally {
    agent.destroy();
    await backend.stop();
}
