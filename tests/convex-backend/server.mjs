#!/usr/bin/env node
// Convex's HTTP API in front of a real Convex Auth 0.0.x app that convex-test executes.
// Prints exactly one line to stdout, `listening <url>`, once it accepts calls; everything
// else goes to stderr. See README.md for the routes, flags and /stats counters.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { convexToJson } from "convex/values";
import { createApp } from "./lib/app.mjs";
import { BadCall, clientHeaderProblem, functionEndpoint, parseCall } from "./lib/calls.mjs";
import { functionFailure, httpErrors, newRequestId } from "./lib/errors.mjs";
import { drawFault, seededRandom } from "./lib/faults.mjs";
import { SlotLimiter } from "./lib/limiter.mjs";
import { OptionError, parseOptions, USAGE } from "./lib/options.mjs";
import { Stats } from "./lib/stats.mjs";

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const STATUS_UDF_FAILED_LEGACY = 560;

function log(message) {
    process.stderr.write(`convex-backend: ${message}\n`);
}

function send(res, status, body, headers = {}) {
    if (res.destroyed || res.headersSent) {
        return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(text),
        ...headers,
    });
    res.end(text);
}

// Resolves to the body, to null once it passes `limit` (the rest is left unread), or to
// undefined when the client goes away before sending all of it.
function readBody(req, limit) {
    return new Promise((resolve, reject) => {
        req.on("close", () => {
            if (!req.complete) {
                resolve(undefined);
            }
        });
        const chunks = [];
        let size = 0;
        req.on("data", (chunk) => {
            size += chunk.length;
            if (size > limit) {
                req.pause();
                resolve(null);
                return;
            }
            chunks.push(chunk);
        });
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        req.on("error", reject);
    });
}

// An RST rather than a FIN, so the client sees "connection reset by peer" mid-request. A TLS
// socket cannot reset itself; its TCP socket (Node keeps it as `_parent`) can, and the TLS
// socket then closes on its own. Destroying both breaks Node's connection bookkeeping.
function resetConnection(socket) {
    try {
        (socket._parent ?? socket).resetAndDestroy();
    } catch {
        socket.destroy();
    }
}

function authorizationKind(header, adminKey) {
    if (header === undefined) {
        return "none";
    }
    if (header.startsWith("Bearer ")) {
        return "bearer";
    }
    if (!header.startsWith("Convex ")) {
        return "other";
    }
    const key = header.slice("Convex ".length);
    return adminKey === null || key === adminKey ? "admin" : "badAdmin";
}

class Backend {
    constructor(options, app) {
        this.options = options;
        this.app = app;
        this.stats = new Stats({ countEmails: options.countEmails });
        this.limiter = new SlotLimiter(options.maxConcurrent, options.queueMs);
        this.random = seededRandom(options.seed);
    }

    snapshot() {
        const { rss, heapUsed } = process.memoryUsage();
        const { user, system } = process.cpuUsage();
        const mib = (bytes) => Math.round(bytes / 2 ** 20);
        return {
            ...this.stats.counters,
            ...this.app.tableSizes(),
            memory: { rssMiB: mib(rss), heapUsedMiB: mib(heapUsed) },
            // CPU time, unlike wall time, shows a slowdown even on a busy machine.
            cpuMs: Math.round((user + system) / 1000),
        };
    }

    reply(res, [status, body], headers) {
        this.stats.status(status);
        send(res, status, body, headers);
    }

    async handle(req, res) {
        const url = new URL(req.url, "http://backend");
        if (req.method === "GET" && url.pathname === "/stats") {
            return send(res, 200, this.snapshot());
        }
        if (req.method === "POST" && url.pathname === "/stats/reset") {
            this.stats.reset();
            return send(res, 200, { ok: true });
        }
        const endpoint = functionEndpoint(url.pathname);
        if (endpoint === null || req.method !== "POST") {
            return send(res, ...httpErrors.notFound(`No route for ${req.method} ${url.pathname}`));
        }
        this.stats.enter();
        res.once("close", () => this.stats.leave());
        await this.handleCall(req, res, endpoint);
    }

    async handleCall(req, res, endpoint) {
        const problem = this.headerProblem(req);
        if (problem !== null) {
            return this.reply(res, problem);
        }
        const body = await readBody(req, MAX_BODY_BYTES);
        if (body === undefined) {
            return;
        }
        if (body === null) {
            return this.reply(res, httpErrors.tooLarge(MAX_BODY_BYTES), { Connection: "close" });
        }
        if (!(await this.survivesFault(req, res))) {
            return;
        }
        let call;
        try {
            call = parseCall(endpoint, body);
        } catch (error) {
            if (!(error instanceof BadCall)) {
                throw error;
            }
            return this.reply(res, httpErrors.badRequest(error.message));
        }
        await this.runCall(req, res, endpoint, call);
    }

    headerProblem(req) {
        const clientProblem = clientHeaderProblem(req.headers["convex-client"]);
        if (clientProblem !== null) {
            return httpErrors.badRequest(clientProblem);
        }
        const type = req.headers["content-type"] ?? "";
        if (!/^application\/json\s*(;|$)/i.test(type)) {
            return httpErrors.badRequest(`Expected Content-Type: application/json, got "${type}"`);
        }
        const auth = authorizationKind(req.headers.authorization, this.options.adminKey);
        if (auth === "badAdmin") {
            return httpErrors.forbidden();
        }
        this.stats.counters.authorization[auth] += 1;
        return null;
    }

    // Applies the drawn fault, if any. False when the call got its (faulty) answer already.
    async survivesFault(req, res) {
        const fault = drawFault(this.random, this.options.faults);
        if (fault === null) {
            return true;
        }
        this.stats.counters.injected[fault] += 1;
        switch (fault) {
            case "preset":
                resetConnection(req.socket);
                return false;
            case "pstall":
                if (this.options.stallMs === 0) {
                    return false; // never answered; the socket closes with the client or us
                }
                await sleep(this.options.stallMs);
                return !res.destroyed;
            case "p429":
                this.reply(res, httpErrors.tooManyRequests());
                return false;
            case "p500":
                this.reply(res, httpErrors.internal());
                return false;
            default:
                this.reply(res, httpErrors.overloaded(this.stats.counters.injected.p503));
                return false;
        }
    }

    async runCall(req, res, endpoint, { udfPath, args }) {
        const admin = req.headers.authorization?.startsWith("Convex ") === true;
        const fn = await this.app.lookUp(udfPath);
        if (fn === null || (!fn.isPublic && !admin)) {
            return this.replySystemError(res, `Could not find public function for '${udfPath}'. `
                + "Did you forget to run `npx convex dev` or `npx convex deploy`?");
        }
        if (endpoint.kind !== "any" && endpoint.kind !== fn.kind) {
            return this.replySystemError(res, `Trying to execute ${udfPath} as `
                + `${capitalise(endpoint.kind)}, but it is defined as ${capitalise(fn.kind)}.`);
        }
        if (!(await this.limiter.acquire())) {
            this.stats.counters.limited += 1;
            return this.reply(res, httpErrors.tooManyRequests());
        }
        let outcome;
        try {
            this.stats.running(this.limiter.running);
            if (this.options.latencyMs > 0) {
                await sleep(this.options.latencyMs); // a zero timer would still cost ~1 ms
            }
            outcome = await this.app.call(fn.kind, udfPath, args);
        } finally {
            this.limiter.release();
        }
        this.replyOutcome(res, udfPath, args, outcome);
    }

    replyOutcome(res, udfPath, args, outcome) {
        const isSignUp = udfPath === "auth:signIn" && args.params?.flow === "signUp";
        this.stats.call(udfPath, outcome.ok, isSignUp ? (args.params?.email ?? "") : null);
        if (this.options.verbose) {
            log(`call path=${udfPath} ok=${outcome.ok}`
                + (outcome.ok ? "" : ` error=${JSON.stringify(String(outcome.error?.message))}`));
        }
        if (outcome.ok) {
            const value = convexToJson(outcome.value ?? null);
            return this.reply(res, [200, { status: "success", value, logLines: outcome.logLines }]);
        }
        if (outcome.system !== null) {
            return this.replySystemError(res, outcome.system);
        }
        const body = functionFailure(outcome.error, { redact: this.options.redact });
        this.reply(res, [this.failureStatus(), { ...body, logLines: outcome.logLines }]);
    }

    // Errors raised by the deployment itself, not by JS code; production does not redact them.
    replySystemError(res, message) {
        const errorMessage = `[Request ID: ${newRequestId()}] Server Error\n${message}`;
        this.reply(res, [this.failureStatus(), { status: "error", errorMessage, logLines: [] }]);
    }

    failureStatus() {
        return this.options.legacy560 ? STATUS_UDF_FAILED_LEGACY : 200;
    }
}

function capitalise(word) {
    return word[0].toUpperCase() + word.slice(1);
}

function createServer(options, handler) {
    const server = options.tls === null
        ? http.createServer(handler)
        : https.createServer({
            cert: readFileSync(options.tls.cert),
            key: readFileSync(options.tls.key),
        }, handler);
    server.keepAliveTimeout = options.keepAliveMs;
    // Must outlast the keep-alive timeout, or Node drops idle connections early.
    server.headersTimeout = options.keepAliveMs + 1000;
    server.requestTimeout = 0;
    return server;
}

function listen(server, { host, port }) {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
            server.off("error", reject);
            resolve(server.address().port);
        });
    });
}

function baseUrl(options, port) {
    const host = options.host.includes(":") ? `[${options.host}]` : options.host;
    return `${options.tls === null ? "http" : "https"}://${host}:${port}`;
}

function installShutdown(server, backend) {
    const stop = (reason) => {
        log(`stopping reason=${reason} stats=${JSON.stringify(backend.stats.counters)}`);
        server.close();
        server.closeAllConnections();
        process.exit(0);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    if (backend.options.exitWithStdin) {
        process.stdin.once("close", () => stop("stdin-closed"));
        process.stdin.resume();
    }
}

async function main() {
    const options = parseOptions(process.argv.slice(2));
    if (options.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    let backend = null;
    const server = createServer(options, (req, res) => {
        if (backend === null) {
            return send(res, ...httpErrors.overloaded(0));
        }
        backend.handle(req, res).catch((error) => {
            log(`request failed url=${req.url} error=${error.stack ?? error}`);
            send(res, ...httpErrors.internal());
        });
    });
    const port = await listen(server, options);
    const url = baseUrl(options, port);
    // The port is only known now, and Convex Auth puts the site URL into its tokens.
    backend = new Backend(options, await createApp({ ...options, siteUrl: url }));
    server.on("connection", () => {
        backend.stats.counters.connections += 1;
    });
    installShutdown(server, backend);
    log(`ready fast=${options.fast} redact=${options.redact} seed=${options.seed} `
        + `indexed=${backend.app.indexed}`);
    process.stdout.write(`listening ${url}\n`);
}

main().catch((error) => {
    if (error instanceof OptionError) {
        log(`${error.message}\n${USAGE}`);
        process.exit(2);
    }
    log(`start-up failed: ${error.stack ?? error}`);
    process.exit(1);
});
