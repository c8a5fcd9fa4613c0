// A 10,000-row import in the backend's fast mode stays within 100 MB of peak memory.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

import { makeUsers, readResults, run, writeCsv, useBackendAndFolder } from "./daemon.mjs";

const GNU_TIME = "/usr/bin/time";
const env = useBackendAndFolder({ fast: true });

test("10,000 rows import with peak RSS under 100 MB", { timeout: 600_000 }, async () => {
    assert.ok(existsSync(GNU_TIME), "GNU time is needed (scripts/install-deps.sh installs it)");
    const users = makeUsers(10_000, "volume");
    const input = writeCsv(path.join(env.folder.path, "volume.csv"), ["email", "password"], users);
    const rss = path.join(env.folder.path, "rss.txt");

    const result = await run(["import", input, "--url", env.backend.url, "--concurrency", "32"],
        { timeoutMs: 590_000, wrapper: [GNU_TIME, "-f", "%M", "-o", rss] });

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /rows=10000 created=10000 /);
    const rows = readResults(`${input}.results.csv`);
    assert.equal(rows.length, 10_000);
    assert.equal(new Set(rows.map((row) => row.email)).size, 10_000);
    const peakKiB = Number(readFileSync(rss, "utf8").trim().split("\n").pop());
    assert.ok(peakKiB > 0 && peakKiB < 100 * 1024, `peak RSS ${peakKiB} KiB`);
    assert.equal((await env.backend.stats()).signUps.ok, 10_000);
});
