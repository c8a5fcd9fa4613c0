// `convex-importd watch`: files dropped into the spool's inbox are imported and filed away.
import assert from "node:assert/strict";
import { existsSync, readFileSync, renameSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import { test } from "node:test";

import { listAccounts } from "./backend.mjs";
import { makeUsers, readResults, start, waitFor, writeCsv, useBackendAndFolder } from "./daemon.mjs";

const env = useBackendAndFolder({ fast: true });

test("a file moved into inbox/ ends in done/ with its results, and the users exist", async () => {
    const spool = path.join(env.folder.path, "spool");
    const log = path.join(env.folder.path, "watch.log");
    const daemon = start(["watch", "--url", env.backend.url, "--spool", spool, "--log-file", log]);
    await waitFor(() => existsSync(path.join(spool, "inbox")), { what: "the spool folders" });

    // Writers make the file elsewhere and rename it in, so it is never seen half-written.
    const users = makeUsers(20, "watched");
    const staged = writeCsv(path.join(env.folder.path, "team.csv"), ["email", "password"], users);
    renameSync(staged, path.join(spool, "inbox", "team.csv"));

    const results = path.join(spool, "done", "team.csv.results.csv");
    await waitFor(() => existsSync(results), { what: "the results file" });
    // The input holds plaintext passwords: once imported it is deleted (keep_processed off).
    assert.ok(!existsSync(path.join(spool, "done", "team.csv")));
    assert.ok(!existsSync(path.join(spool, "inbox", "team.csv")));
    assert.ok(!existsSync(path.join(spool, "processing", "team.csv")));
    assert.deepEqual(readResults(results).map((row) => row.outcome), Array(20).fill("created"));
    const accounts = new Set(await listAccounts(env.backend.url));
    assert.ok(users.every(([email]) => accounts.has(email)));

    const broken = writeCsv(path.join(env.folder.path, "broken.csv"), ["name", "phone"], [["a", "1"]]);
    renameSync(broken, path.join(spool, "inbox", "broken.csv"));
    const reason = path.join(spool, "failed", "broken.csv.error.txt");
    await waitFor(() => existsSync(reason), { what: "the error file" });
    assert.match(readFileSync(reason, "utf8"), /no header row; expected columns email,password/);
    assert.ok(existsSync(path.join(spool, "failed", "broken.csv")));

    daemon.kill("SIGTERM");
    const [code] = await once(daemon, "exit");
    assert.equal(code, 0, daemon.output);
    const logged = readFileSync(log, "utf8");
    assert.match(logged, /file claimed file=team\.csv bytes=\d+ records=20/);
    assert.match(logged, /file finished file=team\.csv rows=20 created=20/);
    assert.match(logged, /file failed file=broken\.csv reason=/);
});
