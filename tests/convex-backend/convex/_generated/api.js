// Stands in for `npx convex codegen` output: untyped references to every function.
export { anyApi as api, anyApi as internal } from "convex/server";
