#!/usr/bin/env node
// The import script a Convex developer writes today, which convex-importd is measured
// against: read the CSV, then call auth:signIn for each row through the official
// ConvexHttpClient, with a pool of CONCURRENCY calls in flight.
// usage: node signup-pool.mjs FILE URL CONCURRENCY [MAX_SECONDS]
// Stops starting calls after MAX_SECONDS (default: no limit) so that a slow run stays
// bounded; prints one line of key=value fields about the rows it finished.
import { readFileSync } from "node:fs";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { parse } from "csv-parse/sync";

const [file, url, concurrencyText, maxSecondsText] = process.argv.slice(2);
if (url === undefined || !(Number(concurrencyText) > 0)) {
    process.stderr.write("usage: node signup-pool.mjs FILE URL CONCURRENCY [MAX_SECONDS]\n");
    process.exit(2);
}
const concurrency = Number(concurrencyText);
const deadline = performance.now() + 1000 * Number(maxSecondsText ?? Infinity);

const started = performance.now();
const users = parse(readFileSync(file), { columns: true, bom: true, skip_empty_lines: true });
// The URL check only accepts *.convex.cloud and the like; these runs are on loopback.
const client = new ConvexHttpClient(url, { skipConvexDeploymentUrlCheck: true, logger: false });

let next = 0;
const counts = { created: 0, failed: 0 };
async function worker() {
    while (next < users.length && performance.now() < deadline) {
        const user = users[next++];
        try {
            await client.action(anyApi.auth.signIn, {
                provider: "password",
                params: { email: user.email.trim().toLowerCase(), password: user.password,
                          flow: "signUp" },
            });
            counts.created += 1;
        } catch {
            counts.failed += 1;
        }
    }
}
await Promise.all(Array.from({ length: concurrency }, worker));

const seconds = (performance.now() - started) / 1000;
const rows = counts.created + counts.failed;
console.log(`rows=${rows} of=${users.length} created=${counts.created} failed=${counts.failed} `
    + `seconds=${seconds.toFixed(3)} rows_per_s=${(rows / seconds).toFixed(1)}`);
