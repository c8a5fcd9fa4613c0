// The real-world inputs of tests/data/cases (copied from ../shared/cases), each imported
// against the real Convex Auth code with the outcome its README table gives.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

import { listAccounts, listUsers, signIn, signUp } from "./backend.mjs";
import { readResults, run, useBackendAndFolder } from "./daemon.mjs";

const CASES = fileURLToPath(new URL("../data/cases/", import.meta.url));
const env = useBackendAndFolder({ fast: true });

async function signUpCalls() {
    return (await env.backend.stats()).calls["auth:signIn"] ?? 0;
}

// Imports a copy of the case file; returns the run, its results and the sign-ups it sent.
async function importCase(name, extraArgs = []) {
    const input = path.join(env.folder.path, name);
    copyFileSync(path.join(CASES, name), input);
    const callsBefore = await signUpCalls();
    const result = await run(["import", input, "--url", env.backend.url, ...extraArgs]);
    const signUps = (await signUpCalls()) - callsBefore;
    let rows = [];
    try {
        rows = readResults(`${input}.results.csv`);
    } catch {
        // no results file: the file failed as a whole
    }
    return { ...result, rows, signUps, output: result.stdout + result.stderr };
}

function outcomes(rows) {
    return rows.map((row) => `${row.line}:${row.email}:${row.outcome}`);
}

async function assertSignsIn(email, password) {
    assert.equal(await signIn(env.backend.url, email, password), true, `${email} cannot sign in`);
}

test("case-01: byte-order mark and CRLF leave no trace in what is sent", async () => {
    const run1 = await importCase("case-01.csv");
    assert.equal(run1.code, 0, run1.output);
    assert.deepEqual(outcomes(run1.rows),
        ["2:alice@example.com:created", "3:bob@example.com:created"]);
    const accounts = await listAccounts(env.backend.url);
    assert.ok(accounts.includes("alice@example.com") && accounts.includes("bob@example.com"));
    assert.ok(accounts.every((email) => !email.includes("\uFEFF") && !email.includes("\r")));
    await assertSignsIn("alice@example.com", "Correct-Horse-1");
    await assertSignsIn("bob@example.com", "Battery-Staple-2");
});

test("case-03: semicolon delimiter; passwords keep their commas", async () => {
    const run3 = await importCase("case-03.csv");
    assert.equal(run3.code, 0, run3.output);
    assert.deepEqual(run3.rows.map((row) => row.outcome), ["created", "created"]);
    await assertSignsIn("anna@example.com", "Sommer,2024!");
    await assertSignsIn("jonas@example.com", "Winter,2025?");
});

test("case-04: lone CR line ends", async () => {
    const run4 = await importCase("case-04.csv");
    assert.equal(run4.code, 0, run4.output);
    assert.deepEqual(outcomes(run4.rows),
        ["2:dave@example.com:created", "3:erin@example.com:created"]);
    await assertSignsIn("dave@example.com", "Tr0ub4dor-3x");
    await assertSignsIn("erin@example.com", "Moon-Lamp-88");
});

test("case-05: quoted comma, doubled quote and line break make 2 records, not 3", async () => {
    const run5 = await importCase("case-05.csv", ["--param", "name"]);
    assert.equal(run5.code, 0, run5.output);
    assert.deepEqual(outcomes(run5.rows),
        ["2:frank@example.com:created", "4:grace@example.com:created"]);
    await assertSignsIn("frank@example.com", 'pa,ss"word-1');
    const frank = (await listUsers(env.backend.url)).find((u) => u.email === "frank@example.com");
    assert.equal(frank.name, "Frank\nExample");
});

test("case-06: a record split by a bare line break is rejected by line, never echoed", async () => {
    const run6 = await importCase("case-06.csv");
    assert.equal(run6.code, 0, run6.output);
    assert.deepEqual(outcomes(run6.rows), ["2:hana@example.com:created", "3::invalid",
        "4::invalid", "5:june@example.com:created"]);
    assert.equal(run6.rows[1].detail, "2 fields, expected 3");
    assert.equal(run6.rows[2].detail, "2 fields, expected 3");
    assert.equal(run6.signUps, 2);
    assert.ok(!(await listAccounts(env.backend.url)).some((email) => email.includes("ivan")));
    const written = run6.output + readFileSync(path.join(env.folder.path, "case-06.csv.results.csv"));
    for (const piece of ["ivan", "Ivan", "Petrov", "Valid-Pass-002"]) {
        assert.ok(!written.includes(piece), `output echoes ${piece}`);
    }
});

test("case-08: padding cells, a short row and padding lines", async () => {
    const run8 = await importCase("case-08.csv");
    assert.equal(run8.code, 0, run8.output);
    assert.deepEqual(outcomes(run8.rows),
        ["2:nina@example.com:created", "3:oscar@example.com:created"]);
    assert.match(run8.stdout, / invalid=0 .*blank_lines=3 /);
});

test("case-09: padded, other-case header names; one warning for the unknown column", async () => {
    const run9 = await importCase("case-09.csv");
    assert.equal(run9.code, 0, run9.output);
    assert.deepEqual(outcomes(run9.rows), ["2:pia@example.com:created"]);
    const warnings = run9.stderr.split("\n").filter((line) => line.includes("unknown columns"));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /columns=Phone/);
});

test("case-10: no header row fails the file, sends nothing, echoes nothing", async () => {
    const run10 = await importCase("case-10.csv");
    assert.equal(run10.code, 1);
    assert.match(run10.stderr, /no header row; expected columns email,password/);
    assert.equal(run10.signUps, 0);
    for (const piece of ["quinn", "River-Stone-33", "rita", "Forest-Path-44"]) {
        assert.ok(!run10.output.includes(piece), `output echoes ${piece}`);
    }
});

test("case-11: emails are trimmed and lower-cased; a repeat is a duplicate", async () => {
    const run11 = await importCase("case-11.csv");
    assert.equal(run11.code, 0, run11.output);
    assert.deepEqual(outcomes(run11.rows), ["2:sara@example.com:created",
        "3:sara@example.com:duplicate", "4:tom@example.com:created"]);
    assert.equal(run11.rows[1].detail, "first seen on line 2");
    await assertSignsIn("sara@example.com", "Silver-Moon-21");
    assert.equal(await signIn(env.backend.url, "sara@example.com", "Golden-Sun-22"), false);
});

test("case-12 run 1: an existing account ends exists and keeps its password", async () => {
    assert.equal((await signUp(env.backend.url, "vic@example.com", "Older-Password-9")).status,
        "success");
    const run12 = await importCase("case-12.csv");
    assert.equal(run12.code, 0, run12.output);
    assert.deepEqual(outcomes(run12.rows), ["2:uma@example.com:created",
        "3:vic@example.com:exists", "4:wes@example.com:created"]);
    await assertSignsIn("vic@example.com", "Older-Password-9");
});

test("case-16: bad rows are invalid with reasons, sent nowhere, leaked nowhere", async () => {
    const log = path.join(env.folder.path, "case-16.log");
    const run16 = await importCase("case-16.csv", ["--log-file", log, "--log-level", "debug"]);
    assert.equal(run16.code, 0, run16.output);
    assert.deepEqual(outcomes(run16.rows), ["2:dora@example.com:created",
        "3:eli@example.com:invalid", "4:fay@example.com:invalid", "5::invalid",
        "6:gus@example.com:created"]);
    assert.deepEqual(run16.rows.slice(1, 4).map((row) => row.detail), [
        "password shorter than 8 characters", "empty password", "email has no @"]);
    assert.equal(run16.signUps, 2);

    const passwords = ["7f3a9c-GOOD-e21b40", "Zq9x", "5d2e77-BADMAIL-0c9af1",
        "b81d04-GOOD-93ce5a"];
    const written = run16.output + readFileSync(log, "utf8") +
        readFileSync(path.join(env.folder.path, "case-16.csv.results.csv"), "utf8");
    for (const password of passwords) {
        const pieces = [password];
        for (let i = 0; i + 5 <= password.length; i++) {
            pieces.push(password.slice(i, i + 5));
        }
        for (const piece of pieces) {
            assert.ok(!written.includes(piece), `output holds a piece of a password: ${piece}`);
        }
    }
});

test("Excel's Unicode text: UTF-16LE with a byte-order mark, tab-separated", async () => {
    const text = "Email\tPassword\tName\r\nzoe@example.com\tZebra-Crossing-7\tZo\u00eb\r\n";
    const name = "unicode-text.csv";
    const input = path.join(env.folder.path, name);
    writeFileSync(input, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));

    const result = await run(["import", input, "--url", env.backend.url, "--param", "Name=name"]);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(outcomes(readResults(`${input}.results.csv`)),
        ["2:zoe@example.com:created"]);
    await assertSignsIn("zoe@example.com", "Zebra-Crossing-7");
    const zoe = (await listUsers(env.backend.url)).find((u) => u.email === "zoe@example.com");
    assert.equal(zoe.name, "Zo\u00eb");
});

test("check reads and checks a file with no network: exit 0, 1 or 2", async () => {
    const clean = await run(["check", path.join(CASES, "case-01.csv")]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /records=2 valid=2 problems=0/);

    const faulty = await run(["check", path.join(CASES, "case-16.csv")]);
    assert.equal(faulty.code, 1, faulty.stderr);
    assert.match(faulty.stdout, /records=5 valid=2 problems=3/);
    assert.match(faulty.stdout, /^line 3: password shorter than 8 characters/m);
    assert.match(faulty.stdout, /^line 4: empty password/m);
    assert.match(faulty.stdout, /^line 5: email has no @/m);
    assert.ok(!faulty.stdout.includes("Zq9x") && !faulty.stdout.includes("BADMAIL"));

    const broken = await run(["check", path.join(CASES, "case-10.csv")]);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /no header row; expected columns email,password/);
    assert.ok(!broken.stderr.includes("River-Stone-33"));
});
