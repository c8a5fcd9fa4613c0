import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import { convexTest } from "convex-test";
import { makeFunctionReference } from "convex/server";
import { exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { addEqualityIndexes, findRootDatabase } from "./indexed-db.mjs";

// convex-test takes an explicit module map in plain Node (there is no Vite glob). It needs
// one entry under _generated/ to find the functions' root; the keys only name the files.
const FUNCTION_FILES = ["_generated/api.js", "_generated/server.js", "auth.js", "testing.js"];

function convexFile(file) {
    return new URL(`../convex/${file}`, import.meta.url).href;
}

const modules = Object.fromEntries(
    FUNCTION_FILES.map((file) => [`./convex/${file}`, () => import(convexFile(file))]),
);

/**
 * The keys Convex Auth signs session JWTs with. The deployment stores JWT_PRIVATE_KEY with
 * its newlines replaced by spaces (environment variables are single-line), and so do we.
 */
async function authKeys() {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const pkcs8 = await exportPKCS8(privateKey);
    const jwk = await exportJWK(publicKey);
    return {
        JWT_PRIVATE_KEY: pkcs8.trimEnd().replace(/\n/g, " "),
        JWKS: JSON.stringify({ keys: [{ use: "sig", alg: "RS256", ...jwk }] }),
    };
}

const logStorage = new AsyncLocalStorage();
const MAX_LOG_LINES = 64;

// Convex returns a call's console output as `logLines`. Functions run in this process, so
// console calls made inside a call's async context are collected for that call instead.
function captureConsole(echo) {
    const real = globalThis.console;
    const capturing = Object.create(real);
    const levels = { log: "LOG", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG" };
    for (const [method, level] of Object.entries(levels)) {
        capturing[method] = (...args) => {
            const lines = logStorage.getStore();
            if (lines === undefined || echo) {
                real[method](...args);
            }
            if (lines !== undefined && lines.length < MAX_LOG_LINES) {
                lines.push(`[${level}] ${format(...args)}`);
            }
        };
    }
    globalThis.console = capturing;
}

function functionKind(fn) {
    if (fn?.isAction) {
        return "action";
    }
    if (fn?.isMutation) {
        return "mutation";
    }
    return fn?.isQuery ? "query" : null;
}

async function lookUp(udfPath) {
    const [modulePath, exportName = "default"] = udfPath.split(":");
    const loader = modules[`./convex/${modulePath}.js`];
    if (loader === undefined || modulePath.startsWith("_generated")) {
        return null;
    }
    const fn = (await loader())[exportName];
    const kind = functionKind(fn);
    return kind === null ? null : { kind, isPublic: fn.isPublic === true };
}

// convex-test checks arguments itself before running a function. A deployment reports a
// mismatch as an ArgumentValidationError, a system error that production does not redact.
function argumentProblem(error) {
    if (!(error instanceof Error) || !error.stack?.includes("validateFunctionArgs")) {
        return null;
    }
    return `ArgumentValidationError: ${error.message.replace(/^Validator error: /, "")}`;
}

/**
 * The Convex app, executed by convex-test. `call` runs one function the way the HTTP API
 * would and never throws for a function's own failure: it returns
 * `{ ok: true, value, logLines }` or `{ ok: false, error, logLines, system }`, where
 * `system` is the message of a failure the deployment (not the function) reports, or null.
 */
export async function createApp({ fast, siteUrl, verbose, index }) {
    Object.assign(process.env, await authKeys(), {
        CONVEX_SITE_URL: siteUrl,
        CONVEX_CLOUD_URL: siteUrl,
        CONVEX_IMPORTD_FAST_HASH: fast ? "1" : "0",
    });
    captureConsole(verbose);

    const schema = (await import(convexFile("schema.js"))).default;
    const t = convexTest(schema, modules);
    const database = await findRootDatabase(t);
    const indexed = index && addEqualityIndexes(database);

    return {
        indexed,
        lookUp,
        async call(kind, udfPath, args) {
            const lines = [];
            const run = () => t[kind](makeFunctionReference(udfPath), args);
            try {
                const value = await logStorage.run(lines, run);
                return { ok: true, value, logLines: lines };
            } catch (error) {
                return { ok: false, error, logLines: lines, system: argumentProblem(error) };
            }
        },
        /** Row counts of the auth tables, read without a transaction (for /stats). */
        tableSizes() {
            const size = (table) => database === null
                ? null
                : database._tableIds?.get(table)?.size ?? 0;
            return {
                accounts: size("authAccounts"),
                users: size("users"),
                sessions: size("authSessions"),
            };
        },
    };
}
