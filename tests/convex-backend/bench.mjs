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

function serverStats(url) {
    return new Promise((resolve, reject) => {
        http.get(`${url}/stats`, { agent: false }, (res) => {
            const chunks = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks))));
        }).on("error", reject);
    });
}

// Wall-clock rate and server CPU per sign-up for each block; CPU stays meaningful when other
// work shares the machine, so a growing cost per sign-up shows there first.
async function run(url) {
    let next = 0;
    let done = 0;
    let mark = { at: performance.now(), cpuMs: (await serverStats(url)).cpuMs };
    const started = mark.at;
    const blocks = [];
    const endBlock = async () => {
        const now = { at: performance.now(), cpuMs: (await serverStats(url)).cpuMs };
        blocks.push({
            perSecond: Math.round(block / ((now.at - mark.at) / 1000)),
            cpuMsPerSignUp: Number(((now.cpuMs - mark.cpuMs) / block).toFixed(2)),
        });
        mark = now;
    };
    const worker = async () => {
        while (next < count) {
            const email = `${values.prefix}${next++}@example.com`;
            const status = await signUp(url, email);
            if (status !== "success") {
                throw new Error(`sign-up of ${email} answered ${status}`);
            }
            done += 1;
            if (done % block === 0) {
                await endBlock();
            }
        }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { seconds: (performance.now() - started) / 1000, blocks };
}

const backend = values.url === undefined
    ? await startBackend({ fast: !values.scrypt, extraArgs: positionals })
    : { url: values.url, stop: async () => {} };
try {
    const { seconds, blocks } = await run(backend.url);
    const accounts = (await listAccounts(backend.url)).length;
    const stats = await serverStats(backend.url);
    console.log(JSON.stringify({
        count, concurrency, seconds: Number(seconds.toFixed(2)),
        perSecond: Math.round(count / seconds), accounts, maxRunning: stats.maxRunning,
        connections: stats.connections, serverRssMiB: stats.memory.rssMiB,
        perBlock: blocks.map((b) => b.perSecond),
        cpuMsPerSignUp: blocks.map((b) => b.cpuMsPerSignUp),
    }));
} finally {
    agent.destroy();
    await backend.stop();
}
