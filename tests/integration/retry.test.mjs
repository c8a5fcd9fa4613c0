// Retries and pacing: transient faults are retried until every row is created exactly once,
// a 429 slows the importer down, and --rate caps how fast it sends.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";

import {
    makeUsers, readResults, run, signUpCounts, useBackend, useFolder, writeCsv,
} from "./daemon.mjs";

const CASES = fileURLToPath(new URL("../data/cases/", import.meta.url));

const folder = useFolder();

function summaryNumber(stdout, key) {
    const match = new RegExp(`\\b${key}=([0-9.]+)`).exec(stdout);
    assert.ok(match, `no ${key}= in: ${stdout}`);
    return Number(match[1]);
}

describe("2,000 rows through 10% 429, 5% 503, 2% resets and 1% stalls", () => {
    const backend = useBackend(["--count-emails", "--seed", "4242", "--p429", "0.1",
        "--p503", "0.05", "--preset", "0.02", "--pstall", "0.01"]);

    test("every row is created exactly once and none fails", { timeout: 300_000 }, async (t) => {
        const users = makeUsers(2000, "faults");
        const input = writeCsv(path.join(folder.path, "faults.csv"), ["email", "password"],
            users);
        const log = path.join(folder.path, "faults.log");

        const result = await run(["import", input, "--url", backend.url, "--read-timeout", "1s",
            "--log-file", log], { timeoutMs: 280_000 });

        assert.equal(result.code, 0, result.stderr);
        const rows = readResults(`${input}.results.csv`);
        assert.equal(rows.length, 2000);
        assert.deepEqual([...new Set(rows.map((row) => row.outcome))], ["created"]);

        const stats = await backend.stats();
        const counts = signUpCounts(stats, users.map(([email]) => email));
        assert.ok(counts.every((n) => n >= 1), "an account was never signed up");
        const extra = counts.reduce((sum, n) => sum + n - 1, 0);
        // Only an answer lost after the call ran can make a row run twice; here that is a
        // stall the read timeout gave up on, and this backend stalls before running a call.
        assert.ok(extra <= stats.injected.pstall, `extra=${extra}`);
        assert.equal(stats.accounts, 2000);  // a fresh backend: exactly these users

        const { p429, p503, preset, pstall } = stats.injected;
        assert.ok(p429 > 100 && p503 > 50 && preset > 10 && pstall > 5,
            JSON.stringify(stats.injected));
        const retries = summaryNumber(result.stdout, "retries");
        const attemptsAfterFirst = rows.reduce((sum, row) => sum + Number(row.attempts) - 1, 0);
        assert.equal(attemptsAfterFirst, retries);
        // 429s and 503s are always retried by the row; a reset of a reused keep-alive
        // connection is re-sent at once by the client, without counting as an attempt.
        assert.ok(retries >= p429 + p503 && retries <= p429 + p503 + preset + pstall,
            `retries=${retries}`);
        assert.match(readFileSync(log, "utf8"), /concurrency lowered limit=\d+ previous=\d+ reason=(429|503)/);
        t.diagnostic(`injected=${JSON.stringify(stats.injected)} retries=${retries} `
            + `ran_twice=${extra} seconds=${summaryNumber(result.stdout, "seconds")}`);
    });
});

describe("case-17: the backend answers 429 to some requests", () => {
    const backend = useBackend(["--count-emails", "--seed", "17", "--p429", "0.3"]);

    test("every user is created exactly once after backoff, and concurrency drops", async (t) => {
        const input = path.join(folder.path, "case-17.csv");
        copyFileSync(path.join(CASES, "case-17.csv"), input);
        const emails = readFileSync(input, "utf8").trim().split("\n").slice(1)
            .map((line) => line.split(",")[0]);
        const log = path.join(folder.path, "case-17.log");

        const result = await run(["import", input, "--url", backend.url, "--log-file", log,
            "--log-level", "debug"]);

        assert.equal(result.code, 0, result.stderr);
        const rows = readResults(`${input}.results.csv`);
        assert.equal(rows.length, 25);
        assert.deepEqual(rows.map((row) => row.outcome), Array(25).fill("created"));
        const stats = await backend.stats();
        assert.deepEqual(signUpCounts(stats, emails), Array(25).fill(1));
        assert.equal(stats.accounts, 25);

        // Every 429 was retried after a drawn backoff, by the row it answered.
        const throttled = stats.injected.p429;
        assert.ok(throttled > 0);
        assert.equal(rows.reduce((sum, row) => sum + Number(row.attempts) - 1, 0), throttled);
        const logged = readFileSync(log, "utf8");
        const retries = [...logged.matchAll(
            /retry line=(\d+) attempt=(\d+) delay_ms=(\d+) reason="HTTP 429 TooManyConcurrentRequests/g)];
        assert.equal(retries.length, throttled);
        assert.ok(retries.every(([, , , delay]) => Number(delay) < 30_000));
        assert.match(logged, /concurrency lowered limit=14 previous=16 reason=429/);
        t.diagnostic(`429s=${throttled} delays_ms=${retries.map((m) => m[3]).join(",")}`);
    });
});

describe("--rate", () => {
    const backend = useBackend([]);

    test("caps sign-ups per second at the rate", async (t) => {
        const users = makeUsers(120, "rate");
        const input = writeCsv(path.join(folder.path, "rate.csv"), ["email", "password"], users);

        const result = await run(["import", input, "--url", backend.url, "--rate", "40"]);

        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /rows=120 created=120 /);
        const seconds = summaryNumber(result.stdout, "seconds");
        const rate = 120 / seconds;
        // 120 requests at 40/s with a burst of 2 need at least (120 - 2) / 40 = 2.95 s.
        assert.ok(seconds >= 2.9, `seconds=${seconds}`);
        assert.ok(rate > 30, `rows/s=${rate}`);
        t.diagnostic(`limit=40/s measured=${rate.toFixed(1)}/s seconds=${seconds}`);
    });
});
