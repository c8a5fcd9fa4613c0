// `convex-importd import` against the real Convex Auth code with real scrypt hashing.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

import { listAccounts, signIn, signUp } from "./backend.mjs";
import { makeUsers, readResults, run, writeCsv, useBackendAndFolder } from "./daemon.mjs";

const env = useBackendAndFolder();

// Every piece of a password an output could leak: the whole and each 5-character run.
function secretPieces(passwords) {
    const pieces = new Set();
    for (const password of passwords) {
        pieces.add(password);
        for (let i = 0; i + 5 <= password.length; i++) {
            pieces.add(password.slice(i, i + 5));
        }
    }
    return pieces;
}

function assertNoSecrets(texts, passwords) {
    for (const piece of secretPieces(passwords)) {
        for (const [name, text] of Object.entries(texts)) {
            assert.ok(!text.includes(piece), `${name} holds a piece of a password: ${piece}`);
        }
    }
}

test("a 50-row file signs up 50 users who then sign in with the file's passwords", async () => {
    const users = makeUsers(50, "fifty");
    const input = writeCsv(path.join(env.folder.path, "fifty.csv"), ["email", "password"], users);
    const log = path.join(env.folder.path, "fifty.log");

    const result = await run(["import", input, "--url", env.backend.url, "--log-file", log]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /rows=50 created=50 exists=0 invalid=0 rejected=0 duplicate=0 failed=0/);
    const rows = readResults(`${input}.results.csv`);
    assert.deepEqual(rows.map((row) => row.outcome), Array(50).fill("created"));
    assert.deepEqual(rows.map((row) => Number(row.line)), users.map((_, i) => i + 2));

    const accounts = new Set(await listAccounts(env.backend.url));
    for (const [email, password] of users) {
        assert.ok(accounts.has(email), `no account for ${email}`);
        assert.equal(await signIn(env.backend.url, email, password), true, `${email} cannot sign in`);
    }
    assert.match(readFileSync(log, "utf8"), /file finished file=fifty\.csv rows=50 created=50/);
});

test("an account that exists with another password ends exists and keeps its password", async () => {
    const [[email, password]] = makeUsers(1, "taken");
    const original = `${password}-original`;
    assert.equal((await signUp(env.backend.url, email, original)).status, "success");
    const input = writeCsv(path.join(env.folder.path, "taken.csv"), ["email", "password"],
        [[email, password]]);

    const result = await run(["import", input, "--url", env.backend.url]);

    assert.equal(result.code, 0, result.stderr);
    const [row] = readResults(`${input}.results.csv`);
    assert.equal(row.outcome, "exists");
    assert.match(row.detail, /already exists/);
    assert.equal(await signIn(env.backend.url, email, original), true);
    assert.equal(await signIn(env.backend.url, email, password), false);
});

test("a 5-character password reaches the backend and ends rejected", async () => {
    const [[email]] = makeUsers(1, "short");
    const input = writeCsv(path.join(env.folder.path, "short.csv"), ["email", "password"],
        [[email, "Ab1-x"]]);

    const result = await run(["import", input, "--url", env.backend.url,
        "--min-password-length", "0"]);

    assert.equal(result.code, 0, result.stderr);
    const [row] = readResults(`${input}.results.csv`);
    assert.equal(row.outcome, "rejected");
    assert.equal(row.attempts, "1");
    assert.equal(row.detail, "Invalid password");
    assert.ok(!(await listAccounts(env.backend.url)).includes(email));
});

test("no password from the input appears in any log line or results file", async () => {
    const users = makeUsers(8, "secret");
    const passwords = users.map(([, password]) => password);
    users.push(["not-signed-up@example.com", "Tiny1"], ["", "Nomail-Pass-77"]);
    passwords.push("Tiny1", "Nomail-Pass-77");
    const input = writeCsv(path.join(env.folder.path, "secret.csv"), ["email", "password"], users);
    const log = path.join(env.folder.path, "secret.log");

    const result = await run(["import", input, "--url", env.backend.url, "--log-file", log,
        "--log-level", "debug", "--min-password-length", "0"]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /answer line=/, "debug lines were expected on stderr");
    assertNoSecrets({
        stdout: result.stdout,
        stderr: result.stderr,
        log: readFileSync(log, "utf8"),
        results: readFileSync(`${input}.results.csv`, "utf8"),
    }, passwords);
});

test("a file without an email column fails with a clear reason and sends nothing", async () => {
    const input = writeCsv(path.join(env.folder.path, "nocolumn.csv"), ["login", "password"],
        [["x@example.com", "Some-Password-1"]]);
    const signUpCalls = async () => (await env.backend.stats()).calls["auth:signIn"] ?? 0;
    const before = await signUpCalls();

    const result = await run(["import", input, "--url", env.backend.url]);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /no email column in the header; expected columns email,password/);
    assert.equal(await signUpCalls(), before);
});

test("when rows fail the input is kept, since it is the only copy of their passwords", async () => {
    const users = makeUsers(3, "unreachable");
    const input = writeCsv(path.join(env.folder.path, "unreachable.csv"), ["email", "password"],
        users);

    // Port 1 on loopback: nothing listens there, so every connection is refused.
    const result = await run(["import", input, "--url", "http://127.0.0.1:1",
        "--max-attempts", "2", "--backoff-max", "50ms"]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, / failed=3 /);
    assert.match(result.stderr, /input kept file=unreachable\.csv failed=3/);
    const outage = result.stderr.split("\n").filter((line) => line.includes("backend unreachable"));
    assert.equal(outage.length, 1, "one line for the outage, not one per row");
    assert.ok(existsSync(input), "the input file was deleted");
    assert.ok(readResults(`${input}.results.csv`).every((row) => row.outcome === "failed"));
});
