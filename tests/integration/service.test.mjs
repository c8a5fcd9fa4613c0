// `watch` as systemd runs it: sd_notify messages, the status file, progress lines, SIGHUP
// (log reopen and config reload), logrotate, and what is left on disk with which mode.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { startBackend } from "./backend.mjs";
import { makeUsers, readResults, start, tempFolder, waitFor, writeCsv } from "./daemon.mjs";

const LISTENER = process.env.CONVEX_IMPORTD_NOTIFY_LISTENER;
const LOGROTATE_SNIPPET = fileURLToPath(
    new URL("../../systemd/convex-importd.logrotate", import.meta.url));
const STOP_TIMEOUT_MS = 20_000;

let backend;
let folder;

before(async () => {
    // 150 ms per sign-up keeps a 40-row file busy for a few seconds at concurrency 2.
    backend = await startBackend({ fast: true, extraArgs: ["--latency-ms", "150"] });
    folder = tempFolder();
});

after(async () => {
    await backend?.stop();
    folder?.remove();
});

/** Plays systemd's notify socket; `messages` grows as the daemon sends. */
async function notifySocket(name) {
    assert.ok(LISTENER, "CONVEX_IMPORTD_NOTIFY_LISTENER is not set (run through ctest)");
    const socket = path.join(folder.path, name);
    const child = spawn(LISTENER, [socket], { stdio: ["ignore", "pipe", "inherit"] });
    const messages = [];
    const lines = createInterface({ input: child.stdout });
    await new Promise((resolve) => lines.once("line", resolve));
    lines.on("line", (line) => messages.push(line));
    return { socket, messages, stop: () => child.kill("SIGKILL") };
}

async function stopDaemon(daemon) {
    const exited = once(daemon, "exit");
    daemon.kill("SIGTERM");
    const timer = setTimeout(() => daemon.kill("SIGKILL"), STOP_TIMEOUT_MS);
    const [code] = await exited;
    clearTimeout(timer);
    return code;
}

function dropFile(spool, name, users) {
    const staged = writeCsv(path.join(folder.path, `.${name}`), ["email", "password"], users);
    renameSync(staged, path.join(spool, "inbox", name));
}

function mode(file) {
    return statSync(file).mode & 0o777;
}

function readStatus(file) {
    try {
        return JSON.parse(readFileSync(file, "utf8"));
    } catch {
        return null;  // not written yet
    }
}

test("systemd hears READY, STATUS with the activity, WATCHDOG, RELOADING and STOPPING", async () => {
    const notify = await notifySocket("notify-1");
    const spool = path.join(folder.path, "spool-notify");
    const daemon = start(["watch", "--url", backend.url, "--spool", spool, "--concurrency", "2"],
        { env: { NOTIFY_SOCKET: notify.socket, WATCHDOG_USEC: "400000" } });
    try {
        await waitFor(() => notify.messages.includes("READY=1"), { what: "READY=1" });
        dropFile(spool, "notified.csv", makeUsers(40, "notified"));
        const importing = /^STATUS=importing notified\.csv \d+% \d+ rows\/s$/;
        await waitFor(() => notify.messages.some((m) => importing.test(m)),
            { what: "STATUS=importing" });
        await waitFor(() => existsSync(path.join(spool, "done", "notified.csv.results.csv")),
            { what: "the results" });
        const lastStatus = () => notify.messages.filter((m) => m.startsWith("STATUS=")).at(-1);
        await waitFor(() => lastStatus() === `STATUS=watching ${path.join(spool, "inbox")}`,
            { what: "STATUS=watching after the file" });

        daemon.kill("SIGHUP");
        await waitFor(() => notify.messages.includes("RELOADING=1"), { what: "RELOADING=1" });
        assert.equal(await stopDaemon(daemon), 0, daemon.output);
    } finally {
        daemon.kill("SIGKILL");
        notify.stop();
    }

    const messages = notify.messages;
    assert.equal(messages.filter((m) => m === "READY=1").length, 2, "READY=1 at start and after reload");
    assert.ok(messages.indexOf("READY=1") < messages.findIndex((m) => m.startsWith("STATUS=importing")));
    assert.ok(messages.filter((m) => m === "WATCHDOG=1").length >= 5, messages.join("\n"));
    assert.ok(messages.indexOf("STOPPING=1") > messages.indexOf("RELOADING=1"), messages.join("\n"));
});

test("the status file and progress lines show a running file; outputs are owner-only", async () => {
    const spool = path.join(folder.path, "spool-status");
    const log = path.join(folder.path, "status.log");
    const config = path.join(folder.path, "status.toml");
    writeFileSync(config, [
        `[deployment]\nurl = "${backend.url}"`,
        "[import]\nconcurrency = 2",
        `[spool]\npath = "${spool}"`,
        `[log]\nfile = "${log}"\nprogress_interval = "1s"`,
        "[status]\ninterval = \"1s\"",
    ].join("\n"));
    const statusFile = path.join(spool, "state", "status.json");
    const daemon = start(["watch", "--config", config]);
    const seen = [];
    let users = [];
    try {
        await waitFor(() => readStatus(statusFile)?.state === "watching", { what: "status watching" });
        users = makeUsers(40, "status");
        dropFile(spool, "status.csv", users);
        await waitFor(() => {
            const status = readStatus(statusFile);
            if (status?.active?.length === 1 && status.active[0].total === 40) {
                seen.push(status);
            }
            return seen.length > 0 && status.active[0].done > 0;
        }, { what: "a status with a running file" });
        await waitFor(() => readStatus(statusFile)?.totals.files_finished === 1,
            { what: "the file finished in the status" });
        assert.equal(await stopDaemon(daemon), 0, daemon.output);
    } finally {
        daemon.kill("SIGKILL");
    }

    const running = seen.at(-1);
    assert.equal(running.state, "importing");
    assert.equal(running.active[0].file, "status.csv");
    assert.equal(Object.keys(running.active[0].counts).length, 7);
    const final = readStatus(statusFile);
    assert.equal(final.state, "stopped");
    assert.deepEqual(final.active, []);
    assert.equal(final.totals.rows, 40);
    assert.equal(final.totals.counts.created, 40);

    const logged = readFileSync(log, "utf8");
    assert.match(logged,
        /info main: starting version=\S+ command=watch pid=\d+ config=\S+status\.toml /);
    assert.match(logged, /file claimed file=status\.csv bytes=\d+ records=40/);
    assert.match(logged, new RegExp("progress file=status\\.csv done=\\d+ total=40 " +
        "percent=\\d+\\.\\d rows_per_s=\\d+\\.\\d eta_s=\\d+ created=\\d+ exists=0 rejected=0 " +
        "invalid=0 duplicate=0 failed=0"));
    assert.match(logged, /file finished file=status\.csv rows=40 created=40/);

    assert.ok(!existsSync(path.join(spool, "done", "status.csv")), "the input was deleted");
    const outputs = [readFileSync(statusFile, "utf8"), logged, daemon.output,
        readFileSync(path.join(spool, "done", "status.csv.results.csv"), "utf8")];
    for (const [, password] of users) {
        assert.ok(outputs.every((text) => !text.includes(password)), "a password leaked");
    }
    for (const file of [statusFile, log, path.join(spool, "done", "status.csv.results.csv")]) {
        assert.equal(mode(file) & 0o137, 0, `${file} has mode ${mode(file).toString(8)}`);
    }
});

test("keep_processed keeps the input in done/ with mode 0600", async () => {
    const spool = path.join(folder.path, "spool-keep");
    const daemon = start(["watch", "--url", backend.url, "--spool", spool, "--keep-processed"]);
    try {
        await waitFor(() => existsSync(path.join(spool, "inbox")), { what: "the spool" });
        const users = makeUsers(3, "kept");
        const staged = writeCsv(path.join(folder.path, "kept.csv"), ["email", "password"], users);
        spawnSync("chmod", ["644", staged]);
        renameSync(staged, path.join(spool, "inbox", "kept.csv"));
        await waitFor(() => existsSync(path.join(spool, "done", "kept.csv.results.csv")),
            { what: "the results" });
        assert.equal(await stopDaemon(daemon), 0, daemon.output);
    } finally {
        daemon.kill("SIGKILL");
    }

    const kept = path.join(spool, "done", "kept.csv");
    assert.ok(existsSync(kept));
    assert.equal(mode(kept), 0o600);
    assert.equal(readResults(`${kept}.results.csv`).length, 3);
});

test("SIGHUP reloads what is safe to change and reopens the log file", async () => {
    const spool = path.join(folder.path, "spool-hup");
    const log = path.join(folder.path, "hup.log");
    const config = path.join(folder.path, "hup.toml");
    const write = (concurrency, url) => writeFileSync(config,
        `[deployment]\nurl = "${url}"\n[import]\nconcurrency = ${concurrency}\n`);
    write(2, backend.url);
    const daemon = start(["watch", "--config", config, "--spool", spool, "--log-file", log]);
    try {
        await waitFor(() => existsSync(log) && readFileSync(log, "utf8").includes("watching spool="),
            { what: "start" });

        renameSync(log, `${log}.1`);
        write(7, "https://elsewhere.convex.cloud");
        daemon.kill("SIGHUP");
        await waitFor(() => existsSync(log) && readFileSync(log, "utf8").includes("config reloaded"),
            { what: "the reload in a new log file" });

        dropFile(spool, "after-hup.csv", makeUsers(2, "hup"));
        await waitFor(() => existsSync(path.join(spool, "done", "after-hup.csv.results.csv")),
            { what: "an import with the old URL" });
        assert.equal(await stopDaemon(daemon), 0, daemon.output);
    } finally {
        daemon.kill("SIGKILL");
    }

    const fresh = readFileSync(log, "utf8");
    assert.match(fresh, /config reloaded file=\S+hup\.toml applied=import\.concurrency unchanged_until_restart=deployment\.url/);
    assert.match(fresh, /warning main: config change needs a restart keys=deployment\.url/);
    assert.match(fresh, /file finished file=after-hup\.csv rows=2 created=2/);
    assert.ok(!readFileSync(`${log}.1`, "utf8").includes("config reloaded"));
});

test("logrotate with the shipped snippet rotates the log and the daemon writes a new one", async () => {
    const logs = path.join(folder.path, "logs");
    const spool = path.join(folder.path, "spool-rotate");
    const log = path.join(logs, "convex-importd.log");
    mkdirSync(logs);
    const daemon = start(["watch", "--url", backend.url, "--spool", spool, "--log-file", log]);
    try {
        await waitFor(() => existsSync(log) && readFileSync(log, "utf8").includes("watching spool="),
            { what: "start" });
        // The snippet as shipped, pointed at this test's folder and this daemon.
        const snippet = readFileSync(LOGROTATE_SNIPPET, "utf8")
            .replace("/var/log/convex-importd/*.log", `${logs}/*.log`)
            .replace(/systemctl reload convex-importd\.service/, `kill -HUP ${daemon.pid}`);
        const conf = path.join(folder.path, "logrotate.conf");
        writeFileSync(conf, snippet, { mode: 0o644 });

        const rotated = spawnSync("logrotate", ["--force", "--state", path.join(folder.path, "lr.state"), conf],
            { encoding: "utf8", timeout: 30_000 });
        assert.equal(rotated.status, 0, rotated.stderr);
        await waitFor(() => existsSync(log), { what: "a new log file" });

        dropFile(spool, "rotated.csv", makeUsers(2, "rotated"));
        await waitFor(() => readFileSync(log, "utf8").includes("file finished file=rotated.csv"),
            { what: "lines in the new log file" });
        assert.equal(await stopDaemon(daemon), 0, daemon.output);
    } finally {
        daemon.kill("SIGKILL");
    }

    assert.match(readFileSync(`${log}.1`, "utf8"), /watching spool=/);
    assert.ok(!readFileSync(`${log}.1`, "utf8").includes("rotated.csv"));
});
