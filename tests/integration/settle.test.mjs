// Only complete files are claimed: a file written slowly, piece by piece, straight into
// inbox/ is left alone until its size and mtime have held still for the settle period.
import assert from "node:assert/strict";
import {
    appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync,
} from "node:fs";
import path from "node:path";
import { test } from "node:test";

import {
    makeUsers, readResults, sleep, start, waitFor, waitForExit, writeCsv, useBackendAndFolder,
} from "./daemon.mjs";

const env = useBackendAndFolder({ fast: true });

test("a file written in pieces is claimed only once it is complete", { timeout: 120_000 },
    async (t) => {
        const spool = path.join(env.folder.path, "spool");
        const log = path.join(env.folder.path, "settle.log");
        // A file already waiting at start-up gets no inotify event: the scans find it.
        mkdirSync(path.join(spool, "inbox"), { recursive: true });
        writeCsv(path.join(spool, "inbox", "early.csv"), ["email", "password"],
            makeUsers(2, "early"));
        const daemon = start(["watch", "--url", env.backend.url, "--spool", spool,
            "--log-file", log, "--keep-processed"]);  // the default settle period: 2 s

        // Pieces end mid-record, 600 ms apart: an early claim would cut a row in two.
        const users = makeUsers(40, "slow");
        const text = ["email,password", ...users.map((user) => user.join(","))].join("\n") + "\n";
        const pieces = 8;
        const size = Math.ceil(text.length / pieces);
        const target = path.join(spool, "inbox", "slow.csv");
        const claimedEarly = () => existsSync(path.join(spool, "processing", "slow.csv")) ||
            existsSync(path.join(spool, "done", "slow.csv"));
        let written = 0;
        for (let i = 0; i < pieces; i++) {
            appendFileSync(target, text.slice(i * size, (i + 1) * size));
            written = Date.now();
            await sleep(600);
            assert.ok(!claimedEarly(), `claimed after piece ${i + 1} of ${pieces}`);
        }

        // A small file renamed in, as the README asks writers to do, is not ignored either.
        const small = writeCsv(path.join(env.folder.path, "small.csv"), ["email", "password"],
            makeUsers(1, "small"));
        renameSync(small, path.join(spool, "inbox", "small.csv"));

        const results = path.join(spool, "done", "slow.csv.results.csv");
        await waitFor(() => existsSync(results), { what: "the slow file's results" });
        assert.ok(Date.now() - written >= 2000, "claimed before the settle period passed");
        const doneAfterMs = Date.now() - written;
        await waitFor(() => existsSync(path.join(spool, "done", "small.csv.results.csv")),
            { what: "the small file's results" });
        assert.ok(existsSync(path.join(spool, "done", "early.csv.results.csv")));
        daemon.kill("SIGTERM");
        assert.equal((await waitForExit(daemon)).code, 0, daemon.output);

        const rows = readResults(results);
        assert.equal(rows.length, 40);
        assert.deepEqual([...new Set(rows.map((row) => row.outcome))], ["created"]);
        const logged = readFileSync(log, "utf8");
        const bytes = statSync(path.join(spool, "done", "slow.csv")).size;
        assert.equal(bytes, text.length);
        assert.match(logged, new RegExp(`file claimed file=slow\\.csv bytes=${bytes}\\b`));
        assert.match(logged, /file finished file=small\.csv rows=1 created=1 /);
        t.diagnostic(`pieces=${pieces} every_ms=600 results_ms_after_last_piece=${doneAfterMs}`);
    });
