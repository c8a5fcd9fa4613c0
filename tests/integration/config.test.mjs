// The configuration file, its errors, check-config, flags over the file, and the deploy key.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { startBackend } from "./backend.mjs";
import { makeUsers, readResults, run, tempFolder, writeCsv } from "./daemon.mjs";

const ADMIN_KEY = "prod:convex-importd-test|0123456789abcdef";

let backend;
let folder;

before(async () => {
    backend = await startBackend({ fast: true, extraArgs: ["--admin-key", ADMIN_KEY] });
    folder = tempFolder();
});

after(async () => {
    await backend?.stop();
    folder?.remove();
});

function writeConfig(name, text) {
    const file = path.join(folder.path, name);
    writeFileSync(file, text);
    return file;
}

function usersFile(name, count) {
    return writeCsv(path.join(folder.path, name), ["email", "password"], makeUsers(count, name));
}

test("a mistake in the file stops with exit 2, FILE:LINE:COLUMN and what was expected", async () => {
    const config = writeConfig("bad.toml",
        "[deployment]\nurl = \"http://127.0.0.1:1\"\n\n[import]\nconcurrency = -3\n");

    const checked = await run(["check-config", "--config", config, "--spool", folder.path]);
    const importing = await run(["import", usersFile("never.csv", 1), "--config", config]);

    for (const result of [checked, importing]) {
        assert.equal(result.code, 2);
        assert.equal(result.stderr.trim(), `convex-importd: ${config}:5:15: import.concurrency: ` +
            "expected an integer from 1 to 4096, got -3");
    }
    const signUps = (await backend.stats()).calls["auth:signIn"] ?? 0;
    assert.equal(signUps, 0);
});

test("an unknown key is refused with a suggestion", async () => {
    const config = writeConfig("typo.toml", "[log]\nlevl = \"debug\"\n");

    const result = await run(["check-config", "--config", config, "--url", backend.url,
        "--spool", folder.path]);

    assert.equal(result.code, 2);
    assert.match(result.stderr, /typo\.toml:2:1: unknown key "log\.levl" \(did you mean "log\.level"\?\)/);
});

test("check-config prints every key with its value and where it came from", async () => {
    const config = writeConfig("ok.toml",
        `[deployment]\nurl = "${backend.url}"\n[import]\nconcurrency = 3\n`);

    const result = await run(["check-config", "--config", config, "--concurrency", "5",
        "--spool", path.join(folder.path, "spool")]);

    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split("\n");
    assert.equal(lines[0], `config ok file=${config}`);
    assert.ok(lines.includes(`deployment.url = ${backend.url}  # ${config}:2:7`), result.stdout);
    assert.ok(lines.includes("import.concurrency = 5  # --concurrency"), result.stdout);
    assert.ok(lines.includes("log.progress_interval = 10s  # default"), result.stdout);
    assert.ok(lines.includes("deploy_key = none"), result.stdout);
});

test("import takes the URL, params and JSON logging from the file", async () => {
    const log = path.join(folder.path, "json.log");
    const config = writeConfig("import.toml", [
        `[deployment]\nurl = "${backend.url}"`,
        "[import]\nconcurrency = 2",
        `[log]\nfile = "${log}"\nformat = "json"`,
        "[spool]\nkeep_processed = true",
    ].join("\n"));
    const input = usersFile("from-file.csv", 6);

    const result = await run(["import", input, "--config", config]);

    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /rows=6 created=6/);
    const lines = readFileSync(log, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line));
    const starting = lines.find((line) => line.event === "starting");
    assert.equal(starting["import.concurrency"], 2);
    assert.equal(starting["deployment.url"], backend.url);
    const finished = lines.find((line) => line.event === "file finished");
    assert.equal(finished.file, "from-file.csv");
    assert.equal(finished.rows, 6);
    assert.equal(finished.created, 6);
    assert.ok(readFileSync(input, "utf8").length > 0, "keep_processed = true keeps the input");
});

test("the deploy key from a key file is sent as Authorization: Convex and never printed", async () => {
    const keyFile = path.join(folder.path, "deploy-key");
    writeFileSync(keyFile, `${ADMIN_KEY}\n`, { mode: 0o600 });
    const log = path.join(folder.path, "key.log");
    const config = writeConfig("key.toml",
        `[deployment]\nurl = "${backend.url}"\ndeploy_key_file = "${keyFile}"\n`);
    await backend.resetStats();

    const result = await run(["import", usersFile("keyed.csv", 4), "--config", config,
        "--log-file", log, "--log-level", "debug"]);

    assert.equal(result.code, 0, result.stderr);
    assert.equal((await backend.stats()).authorization.admin, 4);
    const printed = result.stdout + result.stderr + readFileSync(log, "utf8");
    assert.ok(!printed.includes("0123456789abcdef"), "the key appears in the output");
    assert.match(printed, new RegExp(`deploy_key="file ${keyFile.replace(/[.]/g, "\\.")}"`));
});

test("a key file readable by others is refused before anything is sent", async () => {
    const keyFile = path.join(folder.path, "open-key");
    writeFileSync(keyFile, `${ADMIN_KEY}\n`);
    chmodSync(keyFile, 0o644);
    const config = writeConfig("open.toml",
        `[deployment]\nurl = "${backend.url}"\ndeploy_key_file = "${keyFile}"\n`);
    await backend.resetStats();

    const result = await run(["import", usersFile("refused.csv", 2), "--config", config]);

    assert.equal(result.code, 2);
    assert.match(result.stderr,
        /deploy key file .*open-key has mode 0644: it must not be readable by group or others/);
    assert.equal((await backend.stats()).requests, 0);
});

test("a systemd credential ($CREDENTIALS_DIRECTORY) is preferred over the key file", async () => {
    const credentials = path.join(folder.path, "credentials");
    mkdirSync(credentials);
    writeFileSync(path.join(credentials, "convex-importd.deploy-key"), ADMIN_KEY, { mode: 0o400 });
    const wrongFile = path.join(folder.path, "wrong-key");
    writeFileSync(wrongFile, "prod:wrong\n", { mode: 0o600 });
    const config = writeConfig("cred.toml",
        `[deployment]\nurl = "${backend.url}"\ndeploy_key_file = "${wrongFile}"\n`);
    await backend.resetStats();
    const input = usersFile("credential.csv", 3);

    const result = await run(["import", input, "--config", config],
        { env: { CREDENTIALS_DIRECTORY: credentials } });

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readResults(`${input}.results.csv`).map((row) => row.outcome),
        ["created", "created", "created"]);
    assert.equal((await backend.stats()).authorization.admin, 3);
});
