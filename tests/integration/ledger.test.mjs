// The ledger: emails that ended created or exists are remembered across files and runs, so a
// file imported again creates nothing and sends nothing.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync, renameSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

import { listAccounts, signIn, signUp, startBackend } from "./backend.mjs";
import {
    makeUsers, readResults, run, start, tempFolder, waitFor, waitForExit, writeCsv,
} from "./daemon.mjs";

const CASES = fileURLToPath(new URL("../data/cases/", import.meta.url));
let folder;

before(() => {
    folder = tempFolder();
});

after(() => folder?.remove());

function useBackend(options) {
    const handle = {};
    before(async () => Object.assign(handle, await startBackend(options)));
    after(async () => handle.stop?.());
    return handle;
}

const signUpCalls = async (backend) => (await backend.stats()).calls["auth:signIn"] ?? 0;

describe("re-dropping a finished file into a watched spool", () => {
    const backend = useBackend({ fast: true });

    test("sends no sign-up and reports every row skipped; --no-ledger sends them again",
        { timeout: 120_000 }, async (t) => {
            const spool = path.join(folder.path, "spool");
            const users = makeUsers(20, "again");
            const staged = path.join(folder.path, "team.csv");
            writeCsv(staged, ["email", "password"], users);
            const original = readFileSync(staged);
            const drop = () => {
                copyFileSync(staged, `${staged}.tmp`);
                renameSync(`${staged}.tmp`, path.join(spool, "inbox", "team.csv"));
            };
            const watch = (extra = []) => start(["watch", "--url", backend.url, "--spool", spool,
                "--settle", "100ms", "--keep-processed", ...extra]);

            let daemon = watch();
            await waitFor(() => existsSync(path.join(spool, "inbox")), { what: "the spool" });
            drop();
            await waitFor(() => existsSync(path.join(spool, "done", "team.csv.results.csv")),
                { what: "the first results" });
            const afterFirst = await signUpCalls(backend);

            drop();
            const again = path.join(spool, "done", "team-2.csv.results.csv");
            await waitFor(() => existsSync(again), { what: "the second results" });
            daemon.kill("SIGTERM");
            assert.equal((await waitForExit(daemon)).code, 0, daemon.output);

            assert.equal(await signUpCalls(backend), afterFirst);
            const rows = readResults(again);
            assert.deepEqual(rows.map((row) => row.outcome), Array(20).fill("skipped"));
            assert.deepEqual(rows.map((row) => row.attempts), Array(20).fill("0"));
            rows.forEach((row, i) => assert.equal(row.detail,
                `already created from team.csv line ${i + 2}`));
            assert.match(daemon.output, /file finished file=team-2\.csv rows=20 created=0 .* skipped=20 /);
            assert.deepEqual(readFileSync(path.join(spool, "done", "team-2.csv")), original);

            daemon = watch(["--no-ledger"]);
            drop();
            const third = path.join(spool, "done", "team-3.csv.results.csv");
            await waitFor(() => existsSync(third), { what: "the --no-ledger results" });
            daemon.kill("SIGTERM");
            assert.equal((await waitForExit(daemon)).code, 0, daemon.output);
            assert.deepEqual(readResults(third).map((row) => row.outcome),
                Array(20).fill("created"));  // the same password again: a sign-in
            assert.equal(await signUpCalls(backend), afterFirst + 20);
            t.diagnostic(`sign_up_calls first=${afterFirst} after_redrop=${afterFirst} `
                + `after_no_ledger=${afterFirst + 20}`);
        });
});

describe("case-12: a re-run over existing accounts", () => {
    const backend = useBackend({});  // real scrypt

    test("run 2 of the same file creates nothing, reports every row done and exits 0",
        { timeout: 120_000 }, async () => {
            const input = path.join(folder.path, "case-12.csv");
            copyFileSync(path.join(CASES, "case-12.csv"), input);
            const state = path.join(folder.path, "state-12");
            assert.equal((await signUp(backend.url, "vic@example.com", "Vic-Original-9")).status,
                "success");

            const first = await run(["import", input, "--url", backend.url, "--state-dir", state,
                "--keep-processed"]);
            assert.equal(first.code, 0, first.stderr);
            assert.deepEqual(readResults(`${input}.results.csv`).map((row) => row.outcome),
                ["created", "exists", "created"]);
            const accounts = await listAccounts(backend.url);
            const calls = await signUpCalls(backend);

            const second = await run(["import", input, "--url", backend.url,
                "--state-dir", state]);
            assert.equal(second.code, 0, second.stderr);
            assert.match(second.stdout, /rows=3 created=0 exists=0 .* skipped=3 /);
            const rows = readResults(`${input}.results.csv`);
            assert.deepEqual(rows.map((row) => row.detail), [
                "already created from case-12.csv line 2",
                "already exists from case-12.csv line 3",
                "already created from case-12.csv line 4",
            ]);
            assert.equal(await signUpCalls(backend), calls);
            assert.deepEqual(await listAccounts(backend.url), accounts);
            assert.equal(await signIn(backend.url, "vic@example.com", "Vic-Original-9"), true);
        });
});
