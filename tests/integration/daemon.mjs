// Runs the convex-importd binary for integration tests and makes input files for it.
// Standard library only. The binary's path comes from CONVEX_IMPORTD_BIN (set by ctest).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before } from "node:test";

import { startBackend } from "./backend.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BINARY = process.env.CONVEX_IMPORTD_BIN ??
    path.join(ROOT, "build/daemon/convex-importd");

/** A temporary folder, removed by `remove()`. */
export function tempFolder() {
    const folder = mkdtempSync(path.join(tmpdir(), "cid-it-"));
    return { path: folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** Writes rows `[email, password, ...]` under `header` as a CRLF CSV file. */
export function writeCsv(file, header, rows) {
    const lines = [header, ...rows].map((row) => row.join(","));
    writeFileSync(file, lines.join("\r\n") + "\r\n");
    return file;
}

/**
 * Distinct users, unique per test run. Passwords are random and share no 5-character piece
 * with the emails, so a leak check can look for every piece of them.
 */
export function makeUsers(count, tag) {
    const run = randomBytes(4).toString("hex");
    return Array.from({ length: count }, (_, i) => [
        `${tag}-${run}-${i}@example.com`,
        `P#${randomBytes(9).toString("base64")}`,
    ]);
}

/**
 * Runs the binary (under `wrapper`, e.g. GNU time, when given) to completion; resolves with
 * its exit code, stdout and stderr. `env` adds to the environment.
 */
export async function run(args, { timeoutMs = 120_000, wrapper = [], env = {} } = {}) {
    const [command, ...rest] = [...wrapper, BINARY, ...args];
    const child = spawn(command, rest, {
        stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => { stdout += chunk; });
    child.stderr.on("data", (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const [code, signal] = await once(child, "exit");
    clearTimeout(timer);
    return { code, signal, stdout, stderr };
}

/** Starts the binary and returns the child; the caller stops it. `env` adds to the environment. */
export function start(args, { env = {} } = {}) {
    const child = spawn(BINARY, args, {
        stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env },
    });
    child.output = "";
    child.stdout.on("data", (chunk) => { child.output += chunk; });
    child.stderr.on("data", (chunk) => { child.output += chunk; });
    return child;
}

/** Splits CSV text into records of fields (RFC 4180 quoting). */
export function parseCsv(text) {
    const records = [];
    let record = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted) {
            if (c === '"' && text[i + 1] === '"') {
                field += '"';
                i++;
            } else if (c === '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c === '"') {
            quoted = true;
        } else if (c === ",") {
            record.push(field);
            field = "";
        } else if (c === "\n") {
            records.push([...record, field]);
            record = [];
            field = "";
        } else {
            field += c;
        }
    }
    if (field !== "" || record.length > 0) {
        records.push([...record, field]);
    }
    return records;
}

/** Parses a results file into objects keyed by its header. */
export function readResults(file) {
    const [keys, ...records] = parseCsv(readFileSync(file, "utf8"));
    return records.map((cells) => Object.fromEntries(keys.map((key, i) => [key, cells[i]])));
}

/** Polls `condition` until it is true or `timeoutMs` passes. */
export async function waitFor(condition, { timeoutMs = 60_000, what = "condition" } = {}) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (await condition()) {
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
}

export function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits for a started child to exit; SIGKILLs it after `timeoutMs` so a test cannot hang.
 * Resolves with its exit code, the signal that ended it, and how long the wait took.
 */
export async function waitForExit(child, timeoutMs = 30_000) {
    const started = Date.now();
    if (child.exitCode !== null || child.signalCode !== null) {
        return { code: child.exitCode, signal: child.signalCode, ms: 0 };
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const [code, signal] = await once(child, "exit");
    clearTimeout(timer);
    return { code, signal, ms: Date.now() - started };
}

/** Per-email sign-up counts for `emails` from a backend started with --count-emails. */
export function signUpCounts(stats, emails) {
    const byEmail = stats.signUpsByEmail ?? {};
    return emails.map((email) => byEmail[email] ?? 0);
}

/**
 * Starts a test backend (startBackend's options) and makes a temporary folder before the
 * file's tests, and stops and removes them after. `backend` and `folder` are set on the
 * returned object once the tests run.
 */
export function useBackendAndFolder(options = {}) {
    const context = {};
    before(async () => {
        context.backend = await startBackend(options);
        context.folder = tempFolder();
    });
    after(async () => {
        await context.backend?.stop();
        context.folder?.remove();
    });
    return context;
}

/** A temporary folder for the file's tests, removed after them; `path` is set once they run. */
export function useFolder() {
    const holder = {};
    before(() => Object.assign(holder, tempFolder()));
    after(() => holder.remove?.());
    return holder;
}

/** A fast test backend for one describe block (or file), stopped after it. */
export function useBackend(extraArgs = []) {
    const handle = {};
    before(async () => Object.assign(handle, await startBackend({ fast: true, extraArgs })));
    after(async () => handle.stop?.());
    return handle;
}
