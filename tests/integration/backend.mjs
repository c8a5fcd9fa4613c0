// Starts the Convex test backend (tests/convex-backend/server.mjs) for integration tests and
// speaks its HTTP API. Standard library only; run `npm ci` in tests/convex-backend first.
import { spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import https from "node:https";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SERVER = fileURLToPath(new URL("../convex-backend/server.mjs", import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 30_000;
const STDERR_TAIL_LINES = 100;

// Plain node:http rather than fetch: these helpers must also reach a --tls-cert server with
// a self-signed certificate, and each call gets its own connection so none keeps a test alive.
function httpJson(url, method, body) {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = text === undefined ? {} : {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(text),
    };
    return new Promise((resolve, reject) => {
        const req = client.request(target, {
            method, headers, agent: false, rejectUnauthorized: false,
            timeout: REQUEST_TIMEOUT_MS,
        }, (res) => {
            const chunks = [];
            res.on("data", (chunk) => chunks.push(chunk));
            res.on("end", () => resolve(parseReply(method, url, res.statusCode, chunks)));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`${method} ${url}: timed out`)));
        req.on("error", reject);
        req.end(text);
    });
}

function parseReply(method, url, status, chunks) {
    const text = Buffer.concat(chunks).toString("utf8");
    try {
        return { httpStatus: status, ...JSON.parse(text) };
    } catch {
        throw new Error(`${method} ${url}: HTTP ${status} with a non-JSON body: ${text}`);
    }
}

function passwordArgs(email, password, flow) {
    return { provider: "password", params: { email, password, flow } };
}

function callAction(url, path, args) {
    return httpJson(`${url}/api/action`, "POST", { path, args, format: "json" });
}

/**
 * Calls `auth:signIn` with the sign-up flow. Returns the answer as sent, plus `httpStatus`:
 * `{httpStatus: 200, status: "success", value}` or `{..., status: "error", errorMessage}`.
 */
export function signUp(url, email, password) {
    return callAction(url, "auth:signIn", passwordArgs(email, password, "signUp"));
}

/** True when the password signs the account in. Counts toward Convex Auth's throttle. */
export async function signIn(url, email, password) {
    const reply = await callAction(url, "auth:signIn", passwordArgs(email, password, "signIn"));
    return reply.status === "success";
}

/** The emails of every password account, sorted. */
export async function listAccounts(url) {
    const path = "testing:listAccounts";
    const reply = await httpJson(`${url}/api/query`, "POST", { path, args: {}, format: "json" });
    if (reply.status !== "success") {
        throw new Error(`listAccounts: ${reply.errorMessage ?? JSON.stringify(reply)}`);
    }
    return reply.value;
}

/** Every user's email and name, as the app's profile() stored them. */
export async function listUsers(url) {
    const path = "testing:listUsers";
    const reply = await httpJson(`${url}/api/query`, "POST", { path, args: {}, format: "json" });
    if (reply.status !== "success") {
        throw new Error(`listUsers: ${reply.errorMessage ?? JSON.stringify(reply)}`);
    }
    return reply.value;
}

function collectTail(stream, tail) {
    createInterface({ input: stream }).on("line", (line) => {
        tail.push(line);
        if (tail.length > STDERR_TAIL_LINES) {
            tail.shift();
        }
    });
}

function waitForListening(child, timeoutMs, tail) {
    return new Promise((resolve, reject) => {
        const fail = (why) => {
            clearTimeout(timer);
            child.kill("SIGKILL");
            reject(new Error(`convex backend ${why}\n${tail.join("\n")}`));
        };
        const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs);
        child.once("exit", (code, signal) => fail(`exited early code=${code} signal=${signal}`));
        createInterface({ input: child.stdout }).once("line", (line) => {
            const match = /^listening (\S+)$/.exec(line);
            if (match === null) {
                return fail(`printed an unexpected first line: ${line}`);
            }
            clearTimeout(timer);
            child.removeAllListeners("exit");
            resolve(match[1]);
        });
    });
}

async function stopChild(child) {
    if (child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    child.stdin.destroy();
}

/**
 * Spawns the backend on a free loopback port and waits for it to listen.
 * `fast` swaps scrypt for sha256; `redact` gives production error messages; `extraArgs`
 * passes any other server.mjs flag (fault injection, limits, TLS). Always call stop().
 */
export async function startBackend({ fast = false, redact = false, extraArgs = [],
    timeoutMs = START_TIMEOUT_MS } = {}) {
    const args = [SERVER, "--exit-with-stdin", ...(fast ? ["--fast"] : []),
        ...(redact ? ["--redact"] : []), ...extraArgs];
    // The server exits when this pipe closes, so a test process that dies leaves no server.
    const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] });
    const tail = [];
    // Reading stderr to the end also keeps a chatty server from blocking on a full pipe.
    collectTail(child.stderr, tail);
    const url = await waitForListening(child, timeoutMs, tail);
    return {
        url,
        pid: child.pid,
        stop: () => stopChild(child),
        stats: async () => {
            const { httpStatus, ...counters } = await httpJson(`${url}/stats`, "GET");
            return counters;
        },
        resetStats: () => httpJson(`${url}/stats/reset`, "POST", {}),
        stderr: () => tail.join("\n"),
    };
}
