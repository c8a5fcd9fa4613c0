import { jsonToConvex } from "convex/values";

const FORMATS = new Set([undefined, "json", "convex_encoded_json"]);
const UDF_PATH = /^[A-Za-z0-9_][A-Za-z0-9_\-]*(\/[A-Za-z0-9_][A-Za-z0-9_\-]*)*(:[A-Za-z_]\w*)?$/;
const ENDPOINTS = {
    "/api/action": "action",
    "/api/mutation": "mutation",
    "/api/query": "query",
    "/api/function": "any",
};

/** A request that cannot be a function call; the server answers 400 with its message. */
export class BadCall extends Error {}

/**
 * Which function endpoint a URL path names: `{kind, udfPath}`, where kind is "action",
 * "mutation", "query" or "any", and udfPath is set only for /api/run/<module>/<function>.
 * Null when the path is not a function endpoint.
 */
export function functionEndpoint(pathname) {
    if (ENDPOINTS[pathname] !== undefined) {
        return { kind: ENDPOINTS[pathname], udfPath: null };
    }
    const run = /^\/api\/run\/(.+)\/([^/]+)$/.exec(pathname);
    return run === null ? null : { kind: "any", udfPath: `${run[1]}:${run[2]}` };
}

function normalisePath(path) {
    if (typeof path !== "string") {
        throw new BadCall("Missing or non-string `path` in request body");
    }
    // The deployment accepts the module's file extension and drops it, as the CLI does.
    const udfPath = path.replace(/\.js(?=:|$)/, "");
    if (!UDF_PATH.test(udfPath)) {
        throw new BadCall(`Invalid function path: ${JSON.stringify(path)}`);
    }
    return udfPath.includes(":") ? udfPath : `${udfPath}:default`;
}

// `args` is an object, or (as ConvexHttpClient sends it) an array holding one object.
function normaliseArgs(args) {
    const single = Array.isArray(args) ? args : [args ?? {}];
    if (single.length !== 1 || typeof single[0] !== "object" || single[0] === null
        || Array.isArray(single[0])) {
        throw new BadCall("`args` must be an object or an array of one object");
    }
    try {
        return jsonToConvex(single[0]);
    } catch (error) {
        throw new BadCall(`Invalid Convex JSON in \`args\`: ${error.message}`);
    }
}

/** Parses a call's body into `{udfPath, args}`; throws BadCall for anything malformed. */
export function parseCall(endpoint, bodyText) {
    let body;
    try {
        body = JSON.parse(bodyText);
    } catch (error) {
        throw new BadCall(`Failed to parse JSON body: ${error.message}`);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new BadCall("Request body must be a JSON object");
    }
    if (!FORMATS.has(body.format)) {
        throw new BadCall(`Unsupported format: ${JSON.stringify(body.format)}`);
    }
    return {
        udfPath: normalisePath(endpoint.udfPath ?? body.path),
        args: normaliseArgs(body.args),
    };
}

/** Null when the Convex-Client header is absent or well formed, else why it is not. */
export function clientHeaderProblem(value) {
    if (value === undefined) {
        return null;
    }
    const dash = value.indexOf("-");
    if (dash <= 0 || dash === value.length - 1) {
        return `Invalid Convex-Client header "${value}": expected <client>-<version>`;
    }
    return null;
}
