// Checks that the test backend speaks Convex's HTTP API: the real ConvexHttpClient must work
// against it unchanged. Run with `node --test tests/convex-backend/`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { listAccounts, signIn, signUp, startBackend } from "../integration/backend.mjs";

const signInRef = makeFunctionReference("auth:signIn");
const listAccountsRef = makeFunctionReference("testing:listAccounts");

function passwordArgs(email, password, flow) {
    return { provider: "password", params: { email, password, flow } };
}

function post(url, path, body, headers = {}) {
    return fetch(`${url}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
    });
}

function signUpBody(email, password) {
    return { path: "auth:signIn", args: passwordArgs(email, password, "signUp"), format: "json" };
}

// Starts a backend for one describe block and stops it afterwards.
function useBackend(options) {
    const handle = {};
    before(async () => Object.assign(handle, await startBackend(options)));
    after(async () => handle.stop?.());
    return handle;
}

describe("ConvexHttpClient against the backend with real scrypt", () => {
    const backend = useBackend({});
    let client;
    before(() => {
        // Without a logger the client prints every call's logLines to the test output.
        client = new ConvexHttpClient(backend.url, { logger: false });
    });

    it("signs up, then signs in only with the right password", async () => {
        const created = await client.action(signInRef,
            passwordArgs("alice@example.com", "correct horse", "signUp"));
        assert.equal(typeof created.tokens.token, "string");
        const signedIn = await client.action(signInRef,
            passwordArgs("alice@example.com", "correct horse", "signIn"));
        assert.equal(typeof signedIn.tokens.token, "string");
        await assert.rejects(client.action(signInRef,
            passwordArgs("alice@example.com", "wrong horse", "signIn")));
    });

    it("refuses the same email with another password", async () => {
        await assert.rejects(client.action(signInRef,
            passwordArgs("alice@example.com", "battery staple", "signUp")), /already exists/);
    });

    it("refuses a 5-character password", async () => {
        await assert.rejects(client.action(signInRef,
            passwordArgs("bob@example.com", "12345", "signUp")), /Invalid password/);
    });

    it("accepts the same email and password again", async () => {
        const again = await client.action(signInRef,
            passwordArgs("alice@example.com", "correct horse", "signUp"));
        assert.equal(typeof again.tokens.token, "string");
        assert.deepEqual(await client.query(listAccountsRef, {}), ["alice@example.com"]);
    });
});

describe("HTTP protocol", () => {
    const backend = useBackend({ fast: true });

    it("answers a sign-up with status success and the tokens", async () => {
        const request = signUpBody("p@example.com", "password1");
        const res = await post(backend.url, "/api/action", request);
        assert.equal(res.status, 200);
        const body = await res.json();
        assert.equal(body.status, "success");
        assert.equal(typeof body.value.tokens.refreshToken, "string");
        assert.ok(Array.isArray(body.logLines));
    });

    it("shows the uncaught error in development mode", async () => {
        const res = await post(backend.url, "/api/action", signUpBody("p@example.com", "other-pw"));
        const body = await res.json();
        assert.equal(res.status, 200);
        assert.equal(body.status, "error");
        const head = /^\[Request ID: [0-9a-f]{16}\] Server Error\n/;
        assert.match(body.errorMessage, head);
        assert.match(body.errorMessage,
            /\nUncaught Error: Account p@example.com already exists\n {4}at /);
    });

    it("takes /api/run/<module>/<function> and a one-element args array", async () => {
        const args = [passwordArgs("run@example.com", "password1", "signUp")];
        const res = await post(backend.url, "/api/run/auth/signIn", { args, format: "json" });
        assert.equal((await res.json()).status, "success");
        const body = signUpBody("f@example.com", "password1");
        const fn = await post(backend.url, "/api/function", body);
        assert.equal((await fn.json()).status, "success");
    });

    it("answers malformed requests with 400 BadRequest", async () => {
        for (const [body, headers] of [
            ["{not json", {}],
            [{ path: 42, args: {} }, {}],
            [{ path: "auth:signIn", args: {}, format: "xml" }, {}],
            [signUpBody("h@example.com", "password1"), { "Convex-Client": "nodash" }],
        ]) {
            const res = await post(backend.url, "/api/action", body, headers);
            assert.equal(res.status, 400);
            assert.equal((await res.json()).code, "BadRequest");
        }
        const ok = await post(backend.url, "/api/action", signUpBody("h@example.com",
            "password1"), { "Convex-Client": "convex-importd-0.1.0" });
        assert.equal(ok.status, 200);
    });

    it("hides internal functions unless called with a deploy key", async () => {
        const body = { path: "auth:store", args: { args: { type: "signOut" } } };
        const res = await post(backend.url, "/api/mutation", body);
        assert.match((await res.json()).errorMessage, /Could not find public function/);
        const admin = await post(backend.url, "/api/mutation", body,
            { Authorization: "Convex test-deploy-key" });
        assert.equal((await admin.json()).status, "success");
    });

    it("sends a ConvexError's data as errorData", async () => {
        const data = { code: "TooWeak", min: 12 };
        const body = { path: "testing:fail", args: { message: "weak", data } };
        const reply = await (await post(backend.url, "/api/action", body)).json();
        assert.deepEqual(reply.errorData, data);
        assert.match(reply.errorMessage, /\nUncaught ConvexError: /);
        const client = new ConvexHttpClient(backend.url, { logger: false });
        const thrown = await client.action(makeFunctionReference("testing:fail"),
            { message: "weak", data }).catch((error) => error);
        assert.deepEqual(thrown.data, data);
    });

    it("reports arguments the validator refuses", async () => {
        const body = { path: "auth:signIn", args: { provider: "password", extra: 1 } };
        const reply = await (await post(backend.url, "/api/action", body)).json();
        assert.match(reply.errorMessage, /\nArgumentValidationError: .*extra/);
    });

    it("serves Connection: close and reuses keep-alive connections", async () => {
        const closing = await post(backend.url, "/api/query",
            { path: "testing:listAccounts", args: {} }, { Connection: "close" });
        assert.equal(closing.headers.get("connection"), "close");
        assert.equal((await closing.json()).status, "success");
        await backend.resetStats();
        for (let i = 0; i < 20; i += 1) {
            await (await post(backend.url, "/api/query", { path: "testing:listAccounts" })).json();
        }
        const stats = await backend.stats();
        assert.equal(stats.requests, 20);
        assert.ok(stats.connections <= 2, `connections=${stats.connections}`);
    });

    it("keeps every account exactly once under 64 concurrent sign-ups", async () => {
        const before = new Set(await listAccounts(backend.url));
        const jobs = [];
        for (let i = 0; i < 128; i += 1) {
            jobs.push([`c${i}@example.com`, "password1"]);
        }
        for (let i = 0; i < 16; i += 1) {
            jobs.push([`dup${i}@example.com`, "password1"], [`dup${i}@example.com`, "password1"]);
            jobs.push([`clash${i}@example.com`, "password1"], [`clash${i}@example.com`,
                "password2"]);
        }
        const replies = await runConcurrently(jobs, 64, ([e, p]) => signUp(backend.url, e, p));
        const clashes = replies.filter((r, i) => jobs[i][0].startsWith("clash"));
        const failures = replies.filter((r) => r.status !== "success");
        assert.equal(failures.length, 16);
        assert.ok(failures.every((r) => /already exists/.test(r.errorMessage)));
        assert.equal(clashes.filter((r) => r.status === "success").length, 16);
        const created = (await listAccounts(backend.url)).filter((e) => !before.has(e));
        assert.equal(created.length, 128 + 16 + 16);
        assert.equal(new Set(created).size, created.length);
        assert.equal((await backend.stats()).accounts, before.size + created.length);
        assert.ok(await signIn(backend.url, "clash3@example.com", "password1")
            || await signIn(backend.url, "clash3@example.com", "password2"));
    });
});

async function runConcurrently(items, width, work) {
    const results = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await work(items[i]);
        }
    };
    await Promise.all(Array.from({ length: width }, worker));
    return results;
}

describe("--redact and --legacy-560", () => {
    const backend = useBackend({ fast: true, redact: true, extraArgs: ["--legacy-560"] });

    it("answers a thrown Error with only the request id, under HTTP 560", async () => {
        await signUp(backend.url, "r@example.com", "password1");
        const request = signUpBody("r@example.com", "other-pw");
        const res = await post(backend.url, "/api/action", request);
        assert.equal(res.status, 560);
        const body = await res.json();
        assert.match(body.errorMessage, /^\[Request ID: [0-9a-f]{16}\] Server Error$/);
        const client = new ConvexHttpClient(backend.url, { logger: false });
        await assert.rejects(client.action(signInRef,
            passwordArgs("r@example.com", "other-pw", "signUp")), /Server Error/);
    });

    it("keeps a ConvexError's errorData", async () => {
        const body = { path: "testing:fail", args: { message: "x", data: { code: "Nope" } } };
        const res = await post(backend.url, "/api/action", body);
        const reply = await res.json();
        assert.equal(res.status, 560);
        assert.deepEqual(reply.errorData, { code: "Nope" });
    });
});

describe("--max-concurrent", () => {
    const backend = useBackend({
        fast: true,
        extraArgs: ["--max-concurrent", "2", "--queue-ms", "100", "--latency-ms", "400"],
    });

    it("answers calls that wait past --queue-ms with 429 TooManyConcurrentRequests", async () => {
        const replies = await Promise.all(Array.from({ length: 6 },
            (_, i) => signUp(backend.url, `m${i}@example.com`, "password1")));
        const statuses = replies.map((r) => r.httpStatus).sort();
        assert.deepEqual(statuses, [200, 200, 429, 429, 429, 429]);
        assert.equal(replies.find((r) => r.httpStatus === 429).code, "TooManyConcurrentRequests");
        const stats = await backend.stats();
        assert.equal(stats.limited, 4);
        assert.equal(stats.maxRunning, 2);
    });
});

describe("--count-emails", () => {
    const backend = useBackend({ fast: true, extraArgs: ["--count-emails"] });

    it("counts the sign-up calls that ran, per email", async () => {
        await signUp(backend.url, "twice@example.com", "password1");
        await signUp(backend.url, "twice@example.com", "password1");
        await signUp(backend.url, "once@example.com", "password1");
        await signIn(backend.url, "once@example.com", "password1");
        const stats = await backend.stats();
        assert.deepEqual(stats.signUpsByEmail,
            { "twice@example.com": 2, "once@example.com": 1 });
        await backend.resetStats();
        assert.deepEqual((await backend.stats()).signUpsByEmail, {});
    });
});

describe("fault injection", () => {
    const backend = useBackend({
        fast: true, extraArgs: ["--seed", "7", "--preset", "0.3", "--p503", "0.3"],
    });

    it("resets connections and answers 503 at the configured rates", async () => {
        const outcomes = await runConcurrently(Array.from({ length: 60 }, (_, i) => i), 8,
            (i) => signUp(backend.url, `fault${i}@example.com`, "password1").then(
                (r) => r.httpStatus, (e) => e.code));
        const resets = outcomes.filter((o) => o === "ECONNRESET").length;
        const overloads = outcomes.filter((o) => o === 503).length;
        const stats = await backend.stats();
        assert.equal(stats.injected.preset, resets);
        assert.equal(stats.injected.p503, overloads);
        assert.ok(resets > 5 && overloads > 5, `resets=${resets} overloads=${overloads}`);
        assert.equal(outcomes.filter((o) => o === 200).length, 60 - resets - overloads);
    });
});

describe("--pstall", () => {
    const never = useBackend({ fast: true, extraArgs: ["--pstall", "1"] });
    const late = useBackend({ fast: true, extraArgs: ["--pstall", "1", "--stall-ms", "300"] });

    it("never answers a stalled call, and still stops promptly", async () => {
        const res = post(never.url, "/api/action", signUpBody("s@example.com", "password1"));
        const timeout = new Promise((resolve) => setTimeout(resolve, 300, "timeout"));
        assert.equal(await Promise.race([res, timeout]), "timeout");
        const stats = await never.stats();
        assert.equal(stats.injected.pstall, 1);
        assert.equal(stats.inFlight, 1);
        await never.stop();
        await assert.rejects(res);
    });

    it("answers after --stall-ms when it is set", async () => {
        const started = performance.now();
        const reply = await signUp(late.url, "late@example.com", "password1");
        assert.equal(reply.status, "success");
        assert.ok(performance.now() - started >= 290);
    });
});

function selfSignedCertificate(dir) {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    return { key, cert };
}

describe("--tls-cert", () => {
    const dir = mkdtempSync(join(tmpdir(), "convex-backend-tls-"));
    let tls;
    try {
        tls = selfSignedCertificate(dir);
    } catch {
        tls = null;
    }
    const backend = useBackend({
        fast: true, extraArgs: tls === null ? [] : ["--tls-cert", tls.cert, "--tls-key", tls.key],
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("serves HTTPS", { skip: tls === null && "openssl is not installed" }, async () => {
        assert.match(backend.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        assert.equal((await signUp(backend.url, "tls@example.com", "password1")).status,
            "success");
        assert.deepEqual(await listAccounts(backend.url), ["tls@example.com"]);
    });
});
