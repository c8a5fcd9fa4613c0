// How close adaptive pacing gets to a deployment's limit. The test backend is set up like a
// Convex deployment: at most C calls run at once, each holds its slot L ms plus the sign-up's
// own work, and later calls wait up to Q ms for a slot before they are answered 429. The
// per-call latency is measured first, by a plain client that keeps exactly C calls in
// flight; the ideal throughput is C divided by it, and the target is 90% of that with no row
// ending `failed`.
//
// Usage: node benchmarks/pacing.mjs [--rows 1000] [--slots 16] [--latency-ms 400]
//        [--ceiling 64]
// The binary is build/daemon/convex-importd, or CONVEX_IMPORTD_BIN when set.
// Prints one JSON line per scenario and a Markdown table at the end.
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";

import { startBackend } from "../tests/integration/backend.mjs";
import { makeUsers, readResults, run, tempFolder, writeCsv } from "../tests/integration/daemon.mjs";

const { values } = parseArgs({
    options: {
        rows: { type: "string", default: "1000" },
        slots: { type: "string", default: "16" },
        "latency-ms": { type: "string", default: "400" },
        ceiling: { type: "string", default: "64" },
    },
});
const rows = Number(values.rows);
const slots = Number(values.slots);
const latencyMs = Number(values["latency-ms"]);
const ceiling = Number(values.ceiling);

function signUp(agent, url, email) {
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
            res.resume();
            res.on("end", () => resolve(res.statusCode));
        });
        req.on("error", reject);
        req.end(body);
    });
}

// The mean time a call takes when exactly `slots` are in flight: no queueing, no 429. The
// first `warmUp` calls are left out: a fresh backend runs its first sign-ups slowly.
async function measureCallLatency(calls, warmUp) {
    const backend = await startBackend({
        fast: true, extraArgs: ["--max-concurrent", String(slots), "--latency-ms", String(latencyMs)],
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: slots });
    try {
        let next = 0;
        let total = 0;
        const worker = async () => {
            while (next < calls) {
                const index = next++;
                const started = performance.now();
                const status = await signUp(agent, backend.url, `latency-${index}@example.com`);
                total += index < warmUp ? 0 : performance.now() - started;
                if (status !== 200) {
                    throw new Error(`reference sign-up answered ${status}`);
                }
            }
        };
        await Promise.all(Array.from({ length: slots }, worker));
        return total / (calls - warmUp);
    } finally {
        agent.destroy();
        await backend.stop();
    }
}

const callMs = await measureCallLatency(slots * 30, slots * 5);
const ideal = slots / (callMs / 1000);

// The deployment's queue: Convex's own 10 s for actions, a short one, and none at all.
const scenarios = [
    { name: "queue 10 s (Convex)", queueMs: 10_000, extra: [] },
    { name: "queue 100 ms", queueMs: 100, extra: [] },
    { name: "no queue", queueMs: 0, extra: [] },
    { name: "no queue, --no-adaptive", queueMs: 0, extra: ["--no-adaptive"] },
];

async function runScenario(folder, scenario) {
    const backend = await startBackend({
        fast: true,
        extraArgs: ["--max-concurrent", String(slots), "--latency-ms", String(latencyMs),
            "--queue-ms", String(scenario.queueMs)],
    });
    try {
        const input = writeCsv(path.join(folder, `${scenario.queueMs}-${scenario.extra.length}.csv`),
            ["email", "password"], makeUsers(rows, "pacing"));
        const log = `${input}.log`;
        const result = await run(["import", input, "--url", backend.url, "--concurrency",
            String(ceiling), "--log-file", log, ...scenario.extra], { timeoutMs: 1_800_000 });
        const seconds = Number(/seconds=([0-9.]+)/.exec(result.stdout)?.[1] ?? NaN);
        const outcomes = readResults(`${input}.results.csv`).map((row) => row.outcome);
        const stats = await backend.stats();
        const limits = [...readFileSync(log, "utf8").matchAll(/concurrency \w+ limit=(\d+)/g)]
            .map((m) => Number(m[1]));
        return {
            scenario: scenario.name,
            exit: result.code,
            rows,
            created: outcomes.filter((o) => o === "created").length,
            failed: outcomes.filter((o) => o === "failed").length,
            seconds,
            rowsPerSecond: Number((rows / seconds).toFixed(1)),
            ofIdeal: Number(((rows / seconds) / ideal).toFixed(3)),
            answered429: stats.byStatus?.["429"] ?? 0,
            maxRunning: stats.maxRunning,
            lowestLimit: limits.length > 0 ? Math.min(...limits) : ceiling,
            lastLimit: limits.length > 0 ? limits[limits.length - 1] : ceiling,
        };
    } finally {
        await backend.stop();
    }
}

const folder = tempFolder();
const results = [];
try {
    for (const scenario of scenarios) {
        const measured = await runScenario(folder.path, scenario);
        process.stdout.write(`${JSON.stringify(measured)}\n`);
        results.push(measured);
    }
} finally {
    folder.remove();
}

process.stdout.write(`\nC=${slots} slots, --latency-ms ${latencyMs}, measured per-call latency `
    + `${callMs.toFixed(0)} ms, C/latency=${ideal.toFixed(1)}/s, ceiling ${ceiling}, `
    + `${rows} rows\n\n`);
process.stdout.write("| scenario | rows/s | of C/latency | failed | 429s | lowest limit | last limit |\n");
process.stdout.write("| --- | --- | --- | --- | --- | --- | --- |\n");
for (const r of results) {
    process.stdout.write(`| ${r.scenario} | ${r.rowsPerSecond} | ${(r.ofIdeal * 100).toFixed(0)}% `
        + `| ${r.failed} | ${r.answered429} | ${r.lowestLimit} | ${r.lastLimit} |\n`);
}
