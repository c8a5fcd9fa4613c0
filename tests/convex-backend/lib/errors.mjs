import { randomBytes } from "node:crypto";
import { convexToJson } from "convex/values";

const MAX_FRAMES = 8;
// Frames name files relative to the app, as a deployment's do, not by this machine's paths.
const APP_ROOT = new URL("../", import.meta.url).href;

export function newRequestId() {
    return randomBytes(8).toString("hex");
}

function isConvexError(error) {
    return typeof error === "object" && error !== null && Symbol.for("ConvexError") in error;
}

// A development deployment shows the uncaught JS error under the request id, the way
// V8 prints it: "Uncaught Error: <message>" and then the stack frames.
function describe(error) {
    if (!(error instanceof Error)) {
        return `Uncaught ${String(error)}`;
    }
    const frames = (error.stack ?? "")
        .split("\n")
        .filter((line) => line.startsWith("    at "))
        .slice(0, MAX_FRAMES)
        .map((line) => line.replaceAll(APP_ROOT, "../"));
    return [`Uncaught ${error.name}: ${error.message}`, ...frames].join("\n");
}

/**
 * The `errorMessage` (and `errorData` for a ConvexError) of a call whose function threw.
 * With `redact`, as on production deployments, only the request id is left in the message.
 */
export function functionFailure(error, { redact }) {
    const head = `[Request ID: ${newRequestId()}] Server Error`;
    const body = {
        status: "error",
        errorMessage: redact ? head : `${head}\n${describe(error)}`,
    };
    if (isConvexError(error)) {
        body.errorData = convexToJson(error.data ?? null);
    }
    return body;
}

/** Bodies of the HTTP-level errors, `{code, message}` as the Convex backend sends them. */
export const httpErrors = {
    badRequest: (message) => [400, { code: "BadRequest", message }],
    forbidden: () => [403, {
        code: "BadAdminKey",
        message: "The provided admin key was invalid for this instance",
    }],
    notFound: (message) => [404, { code: "NotFound", message }],
    tooLarge: (limit) => [413, {
        code: "PayloadTooLarge",
        message: `Request body is larger than the limit of ${limit} bytes`,
    }],
    tooManyRequests: () => [429, {
        code: "TooManyConcurrentRequests",
        message: "Too many concurrent requests, backoff and try again.",
    }],
    internal: () => [500, {
        code: "InternalServerError",
        message: "Your request couldn't be completed. Try again later.",
    }],
    overloaded: (n) => [503, [
        { code: "ExpiredInQueue", message: "Request expired in queue, try again later." },
        { code: "CommitterFullError", message: "Too many writes in flight, try again later." },
        { code: "WorkerOverloaded", message: "Function workers are overloaded, try again." },
    ][n % 3]],
};
