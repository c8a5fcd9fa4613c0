import { query } from "./_generated/server.js";

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
