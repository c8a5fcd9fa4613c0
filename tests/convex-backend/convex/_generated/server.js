// Stands in for `npx convex codegen` output so the app needs no TypeScript or CLI step.
// convex-test also finds the functions' root directory from this folder's name.
export {
    actionGeneric as action,
    internalActionGeneric as internalAction,
    internalMutationGeneric as internalMutation,
    internalQueryGeneric as internalQuery,
    mutationGeneric as mutation,
    queryGeneric as query,
} from "convex/server";
