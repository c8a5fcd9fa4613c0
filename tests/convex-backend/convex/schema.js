import { defineSchema } from "convex/server";
import { authTables } from "@convex-dev/auth/server";

// Only the tables Convex Auth needs: the importer creates users, nothing else.
export default defineSchema({
    ...authTables,
});
