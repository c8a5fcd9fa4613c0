// Crash safety and clean shutdown of `watch`: kill -9 at random moments, SIGTERM with its
// grace period, and a second signal; each restart resumes the file from processing/.
import assert from "node:assert/strict";
import { existsSync, readFileSync, renameSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";

import {
    makeUsers, readResults, signUpCounts, sleep, start, useBackend, useFolder, waitFor, waitForExit,
    writeCsv,
} from "./daemon.mjs";

const CONCURRENCY = 16;
const folder = useFolder();

// A spool with one file of `users` waiting in inbox/ (written elsewhere, renamed in).
function spoolWith(name, users) {
    const spool = path.join(folder.path, `spool-${name}`);
    const staged = writeCsv(path.join(folder.path, `${name}.csv`), ["email", "password"], users);
    return { spool, staged, file: `${name}.csv` };
}

function watch(spool, url, extra = []) {
    return start(["watch", "--url", url, "--spool", spool, "--settle", "200ms",
        "--concurrency", String(CONCURRENCY), "--log-file", path.join(spool, "..", "watch.log"),
        ...extra]);
}

async function dropIntoInbox(spool, staged, file) {
    await waitFor(() => existsSync(path.join(spool, "inbox")), { what: "the spool folders" });
    renameSync(staged, path.join(spool, "inbox", file));
}

// The finished file's results: one row per data line, lines 2..rows+1 each exactly once.
function checkResults(spool, file, rows) {
    const results = readResults(path.join(spool, "done", `${file}.results.csv`));
    assert.equal(results.length, rows);
    assert.deepEqual(results.map((row) => Number(row.line)),
        Array.from({ length: rows }, (_, i) => i + 2));
    assert.ok(!existsSync(path.join(spool, "processing", file)));
    return results;
}

describe("kill -9 at five random moments during a 2,000-row import", () => {
    const backend = useBackend(["--count-emails", "--latency-ms", "50"]);

    test("every row ends with one outcome; re-sends stay within the rows in flight",
        { timeout: 300_000 }, async (t) => {
            const users = makeUsers(2000, "crash");
            const { spool, staged, file } = spoolWith("crash", users);
            const moments = [];

            let daemon = watch(spool, backend.url);
            await dropIntoInbox(spool, staged, file);
            for (let kill = 0; kill < 5; kill++) {
                const ms = 500 + Math.floor(Math.random() * 2500);
                moments.push(ms);
                await sleep(ms);
                daemon.kill("SIGKILL");
                const ended = await waitForExit(daemon);
                assert.equal(ended.signal, "SIGKILL", daemon.output);
                daemon = watch(spool, backend.url);
            }
            // Results written by a killed run can be there before the last daemon has even
            // set up its signal handlers; wait for it to be watching and the file filed away.
            const last = daemon;
            await waitFor(() => last.output.includes("watching spool=") &&
                existsSync(path.join(spool, "done", `${file}.results.csv`)) &&
                !existsSync(path.join(spool, "processing", file)),
            { timeoutMs: 120_000, what: "the results after the last restart" });
            daemon.kill("SIGTERM");
            assert.equal((await waitForExit(daemon)).code, 0, daemon.output);

            const results = checkResults(spool, file, 2000);
            assert.deepEqual([...new Set(results.map((row) => row.outcome))], ["created"]);
            const stats = await backend.stats();
            assert.equal(stats.accounts, 2000);
            const counts = signUpCounts(stats, users.map(([email]) => email));
            assert.ok(counts.every((n) => n >= 1));
            const sentTwice = counts.filter((n) => n > 1).length;
            const extra = counts.reduce((sum, n) => sum + n - 1, 0);
            // At most CONCURRENCY rows are sent and not yet durably finished at any moment.
            assert.ok(extra <= 5 * CONCURRENCY, `extra=${extra}`);
            const resumed = [...readFileSync(path.join(spool, "..", "watch.log"), "utf8")
                .matchAll(/file resumed file=crash\.csv finished_rows=(\d+)/g)].map((m) => m[1]);
            assert.ok(resumed.length >= 1, "no restart resumed the file");
            t.diagnostic(`kills_after_ms=${moments.join(",")} resumed_at=${resumed.join(",")} `
                + `rows_sent_twice=${sentTwice} extra_sends=${extra} bound=${5 * CONCURRENCY}`);
        });
});

describe("SIGTERM during an import", () => {
    const backend = useBackend(["--count-emails", "--latency-ms", "200"]);

    test("exits 0 at once, and the restart finishes the file without re-sending a row",
        { timeout: 120_000 }, async (t) => {
            const users = makeUsers(300, "term");
            const { spool, staged, file } = spoolWith("term", users);

            let daemon = watch(spool, backend.url);
            await dropIntoInbox(spool, staged, file);
            await waitFor(() => existsSync(path.join(spool, "processing", file)),
                { what: "the claim" });
            await sleep(1000);
            daemon.kill("SIGTERM");
            const stopped = await waitForExit(daemon);
            assert.equal(stopped.code, 0, daemon.output);
            assert.ok(stopped.ms < 10_000, `took ${stopped.ms} ms, more than the grace period`);
            assert.ok(existsSync(path.join(spool, "processing", file)));
            assert.match(daemon.output, /file interrupted file=term\.csv done=\d+ left_in=processing/);
            const doneBefore = Number(/done=(\d+)/.exec(daemon.output)[1]);
            assert.ok(doneBefore > 0 && doneBefore < 300, `done=${doneBefore}`);

            daemon = watch(spool, backend.url);
            await waitFor(() => existsSync(path.join(spool, "done", `${file}.results.csv`)),
                { what: "the results after the restart" });
            daemon.kill("SIGTERM");
            assert.equal((await waitForExit(daemon)).code, 0, daemon.output);

            const results = checkResults(spool, file, 300);
            assert.deepEqual([...new Set(results.map((row) => row.outcome))], ["created"]);
            // Requests in flight finished within the grace period and were recorded.
            const counts = signUpCounts(await backend.stats(), users.map(([email]) => email));
            assert.deepEqual(counts, Array(300).fill(1));
            t.diagnostic(`exit_ms=${stopped.ms} done_before_restart=${doneBefore}`);
        });
});

describe("slow requests at shutdown", () => {
    const backend = useBackend(["--count-emails", "--latency-ms", "4000"]);

    test("the grace period ends them, a second signal ends them at once, both exit 0",
        { timeout: 120_000 }, async (t) => {
            const users = makeUsers(CONCURRENCY, "slow");
            const { spool, staged, file } = spoolWith("slow", users);

            let daemon = watch(spool, backend.url, ["--grace", "1s"]);
            await dropIntoInbox(spool, staged, file);
            await waitFor(() => existsSync(path.join(spool, "processing", file)),
                { what: "the claim" });
            await sleep(500);
            daemon.kill("SIGTERM");
            const graceful = await waitForExit(daemon);
            assert.equal(graceful.code, 0, daemon.output);
            assert.ok(graceful.ms >= 900 && graceful.ms < 3000, `grace exit ${graceful.ms} ms`);
            assert.match(daemon.output, /grace period over/);

            daemon = watch(spool, backend.url);  // the default grace: 10 s
            await waitFor(() => daemon.output.includes("file resumed"), { what: "the resume" });
            await sleep(500);
            daemon.kill("SIGTERM");
            await sleep(200);
            daemon.kill("SIGTERM");
            const immediate = await waitForExit(daemon);
            assert.equal(immediate.code, 0, daemon.output);
            assert.ok(immediate.ms < 1500, `second signal exit ${immediate.ms} ms`);
            assert.match(daemon.output, /stopping now signal=SIGTERM/);

            daemon = watch(spool, backend.url);
            await waitFor(() => existsSync(path.join(spool, "done", `${file}.results.csv`)),
                { what: "the results after the last restart" });
            daemon.kill("SIGTERM");
            assert.equal((await waitForExit(daemon)).code, 0, daemon.output);

            const results = checkResults(spool, file, CONCURRENCY);
            assert.deepEqual([...new Set(results.map((row) => row.outcome))], ["created"]);
            // Each cut-off request may still have run on the backend: at most one extra run
            // per row for each of the two stops.
            const counts = signUpCounts(await backend.stats(), users.map(([email]) => email));
            assert.ok(counts.every((n) => n >= 1 && n <= 3), counts.join(","));
            t.diagnostic(`grace_exit_ms=${graceful.ms} second_signal_exit_ms=${immediate.ms} `
                + `runs_per_row=${counts.join(",")}`);
        });
});
