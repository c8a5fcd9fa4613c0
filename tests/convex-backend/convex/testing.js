import { ConvexError, v } from "convex/values";
import { action, query } from "./_generated/server.js";

// Lets tests assert which accounts an import created. Ordered by email through the index,
// so a listing is stable between runs.
export const listAccounts = query({
    args: {},
    handler: async (ctx) => {
        const accounts = await ctx.db
            .query("authAccounts")
            .withIndex("providerAndAccountId", (q) => q.eq("provider", "password"))
            .collect();
        return accounts.map((account) => account.providerAccountId);
    },
});

// The users' emails and names, so tests can check what sign-up params reached profile().
export const listUsers = query({
    args: {},
    handler: async (ctx) => {
        const users = await ctx.db.query("users").collect();
        return users.map((user) => ({ email: user.email, name: user.name ?? null }));
    },
});

// Throws on request, so tests can see how an app's own errors reach the client: a ConvexError
// (its data travels as errorData, even on production) or a plain Error (redacted there).
export const fail = action({
    args: { message: v.string(), data: v.optional(v.any()) },
    handler: async (_ctx, { message, data }) => {
        throw data === undefined ? new Error(message) : new ConvexError(data);
    },
});
