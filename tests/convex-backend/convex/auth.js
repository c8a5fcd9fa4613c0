import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Password } from "@convex-dev/auth/providers/Password";
import { convexAuth } from "@convex-dev/auth/server";

// Scrypt costs about 0.2 s of CPU per sign-up, which would make a 10,000-user volume test
// measure hashing instead of the importer. The server sets this variable for --fast.
const fastHashing = process.env.CONVEX_IMPORTD_FAST_HASH === "1";

function sha256Hex(salt, secret) {
    return createHash("sha256").update(salt).update(secret).digest("hex");
}

// Salted so that two accounts with one password still store different hashes, as scrypt
// does; verification stays exact, so "already exists" still means a different password.
const sha256Crypto = {
    async hashSecret(secret) {
        const salt = randomBytes(16).toString("hex");
        return `sha256:${salt}:${sha256Hex(salt, secret)}`;
    },
    async verifySecret(secret, stored) {
        const [scheme, salt, digest] = stored.split(":");
        if (scheme !== "sha256" || salt === undefined || digest === undefined) {
            return false;
        }
        const expected = Buffer.from(digest, "hex");
        const actual = Buffer.from(sha256Hex(salt, secret), "hex");
        return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
};

// Like most apps, keep the name the sign-up passes in, so tests can see params arrive.
function profile(params) {
    const fields = { email: params.email };
    if (typeof params.name === "string") {
        fields.name = params.name;
    }
    return fields;
}

export const { auth, signIn, signOut, store, isAuthenticated } = convexAuth({
    providers: [Password(fastHashing ? { crypto: sha256Crypto, profile } : { profile })],
});
