import { AsyncLocalStorage } from "node:async_hooks";
import { convexToJson, jsonToConvex } from "convex/values";

// convex-test answers every `withIndex` query by visiting every document of the table and
// sorting the matches. A sign-up runs several such lookups on tables that grow by one or two
// rows per sign-up, so a 10,000-user import costs O(n^2) and slows to a crawl. This module
// gives its in-memory database hash indexes for the equality prefix of an index range: the
// lookup then visits only the documents with those values plus the running transaction's
// own writes, and convex-test's code still does the exact filtering and ordering. It relies
// on internals of the pinned convex-test version and checks them before patching anything.

const REQUIRED = ["_resolveQuerySource", "_iterateDocs", "commit", "rollbackWrites", "get"];

/**
 * Finds the root-component database of a convexTest instance. convex-test keeps it in a
 * private AsyncLocalStorage store, so this watches `run` while `t.run` enters that store.
 */
export async function findRootDatabase(t) {
    const originalRun = AsyncLocalStorage.prototype.run;
    let database = null;
    AsyncLocalStorage.prototype.run = function (store, ...rest) {
        database ??= store?.components?.[""]?.db ?? null;
        return originalRun.call(this, store, ...rest);
    };
    try {
        await t.run(async () => null);
    } finally {
        AsyncLocalStorage.prototype.run = originalRun;
    }
    return database;
}

function tableOf(id) {
    return id.replace(/^[0-9]+/, "");
}

function isPlainObject(value) {
    if (value === null || typeof value !== "object") {
        return false;
    }
    const prototype = Object.getPrototypeOf(value);
    return prototype === null || prototype.constructor?.name === "Object";
}

// Descends like convex-test's own field paths: through plain objects only, not arrays.
function fieldValue(document, fieldPath) {
    let value = document;
    for (const part of fieldPath.split(".")) {
        value = isPlainObject(value) ? value[part] : undefined;
    }
    return value;
}

function keyPart(value) {
    return value === undefined ? "u" : `v${JSON.stringify(convexToJson(value))}`;
}

// Values whose equality under Convex ordering is exactly equality of their JSON encoding.
function isPlainKey(value) {
    const type = typeof value;
    return value === null || type === "string" || type === "boolean" || type === "bigint"
        || (type === "number" && Number.isFinite(value) && !Object.is(value, -0));
}

function queryValue(encoded) {
    if (encoded !== null && typeof encoded === "object" && "$undefined" in encoded) {
        return undefined;
    }
    return jsonToConvex(encoded);
}

class EqualityIndexes {
    #database;
    // "table.index/k" -> { table, fields, buckets: Map(key -> Set(id)) }
    #indexes = new Map();

    constructor(database) {
        this.#database = database;
    }

    /** The candidate ids for an index range query, or null to let convex-test scan. */
    candidates(query) {
        const source = query.source;
        if (source.type !== "IndexRange") {
            return null;
        }
        const [table, indexName] = source.indexName.split(".");
        const fields = this.#indexFields(table, indexName);
        if (fields === null) {
            return null;
        }
        const values = this.#equalityPrefix(source.range, fields);
        if (values === null) {
            return null;
        }
        const index = this.#index(table, indexName, fields.slice(0, values.length));
        return { table, ids: index.buckets.get(values.map(keyPart).join("\u0000")) };
    }

    /** Moves the indexes from a document's committed version to its new one. */
    update(id, before, after) {
        const table = tableOf(id);
        for (const index of this.#indexes.values()) {
            if (index.table !== table) {
                continue;
            }
            if (before !== undefined) {
                index.buckets.get(this.#keyOf(index, before))?.delete(id);
            }
            if (after !== undefined) {
                this.#add(index, id, after);
            }
        }
    }

    #indexFields(table, indexName) {
        const indexes = this.#database._schema?.tables.get(table)?.indexes ?? [];
        return indexes.find((index) => index.indexDescriptor === indexName)?.fields ?? null;
    }

    #equalityPrefix(range, fields) {
        const values = [];
        for (const [i, filter] of range.entries()) {
            if (filter.type !== "Eq" || filter.fieldPath !== fields[i]) {
                break;
            }
            const value = queryValue(filter.value);
            if (value !== undefined && !isPlainKey(value)) {
                return null;
            }
            values.push(value);
        }
        return values.length === 0 ? null : values;
    }

    #index(table, indexName, fields) {
        const name = `${table}.${indexName}/${fields.length}`;
        let index = this.#indexes.get(name);
        if (index === undefined) {
            index = { table, fields, buckets: new Map() };
            for (const id of this.#database._tableIds.get(table) ?? []) {
                this.#add(index, id, this.#database._documents[id]);
            }
            this.#indexes.set(name, index);
        }
        return index;
    }

    #keyOf(index, document) {
        return index.fields.map((field) => keyPart(fieldValue(document, field))).join("\u0000");
    }

    #add(index, id, document) {
        const key = this.#keyOf(index, document);
        let bucket = index.buckets.get(key);
        if (bucket === undefined) {
            bucket = new Set();
            index.buckets.set(key, bucket);
        }
        bucket.add(id);
    }
}

function patchQueries(database, indexes) {
    const resolve = database._resolveQuerySource;
    const iterate = database._iterateDocs;
    let hint = null;
    database._resolveQuerySource = function (query) {
        hint = indexes.candidates(query);
        try {
            return resolve.call(this, query);
        } finally {
            hint = null;
        }
    };
    database._iterateDocs = function (tableName, callback) {
        if (hint === null || hint.table !== tableName) {
            return iterate.call(this, tableName, callback);
        }
        // Committed matches plus every id the open transaction wrote: `get` returns the
        // newest version and convex-test's callback re-checks the whole range on it.
        const ids = new Set(hint.ids);
        for (const writes of this._writes) {
            for (const id of Object.keys(writes)) {
                if (tableOf(id) === tableName) {
                    ids.add(id);
                }
            }
        }
        for (const id of ids) {
            const document = this.get(tableName, id);
            if (document !== null) {
                callback(document);
            }
        }
    };
}

function patchCommits(database, indexes) {
    const commit = database.commit;
    const rollback = database.rollbackWrites;
    database.commit = function (...args) {
        const outermost = this._writes.length === 1;
        const ids = outermost ? Object.keys(this._writes[0]) : [];
        const before = ids.map((id) => this._documents[id]);
        commit.apply(this, args);
        ids.forEach((id, i) => indexes.update(id, before[i], this._documents[id]));
        forgetQueries(this);
    };
    database.rollbackWrites = function (...args) {
        rollback.apply(this, args);
        forgetQueries(this);
    };
}

// convex-test keeps every query stream it ever opened (its cleanup syscall is a no-op).
// Streams live only inside one transaction, so they can go once the outermost one ends.
function forgetQueries(database) {
    if (database._writes.length === 0) {
        database._queryResults = {};
    }
}

/**
 * Adds equality indexes to a convex-test database. Returns false, changing nothing, when
 * the database does not look like the one this was written against.
 */
export function addEqualityIndexes(database) {
    const fits = database !== null
        && REQUIRED.every((name) => typeof database[name] === "function")
        && database._tableIds instanceof Map && Array.isArray(database._writes)
        && typeof database._documents === "object" && "_queryResults" in database;
    if (!fits) {
        return false;
    }
    const indexes = new EqualityIndexes(database);
    patchQueries(database, indexes);
    patchCommits(database, indexes);
    return true;
}
