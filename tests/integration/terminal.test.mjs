// `import` on a terminal redraws one progress line in place; without a terminal it prints
// plain lines only. The terminal is a pseudo-terminal made by script(1).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { startBackend } from "./backend.mjs";
import { BINARY, makeUsers, run, tempFolder, writeCsv } from "./daemon.mjs";

const RUN_TIMEOUT_MS = 60_000;

let backend;
let folder;

before(async () => {
    backend = await startBackend({ fast: true, extraArgs: ["--latency-ms", "100"] });
    folder = tempFolder();
});

after(async () => {
    await backend?.stop();
    folder?.remove();
});

function quote(word) {
    return `'${word.replaceAll("'", "'\\''")}'`;
}

// Everything the program wrote to its terminal, as script(1) saw it.
async function runOnTerminal(args) {
    const line = [BINARY, ...args].map(quote).join(" ");
    const child = spawn("script", ["--quiet", "--return", "--command", line, "/dev/null"],
        { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, COLUMNS: "120" } });
    let output = "";
    child.stdout.on("data", (chunk) => { output += chunk; });
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    const [code] = await once(child, "exit");
    clearTimeout(timer);
    return { code, output };
}

test("on a terminal a progress line is redrawn in place, then the summary", async () => {
    const input = writeCsv(path.join(folder.path, "tty.csv"), ["email", "password"],
        makeUsers(30, "tty"));

    const { code, output } = await runOnTerminal(["import", input, "--url", backend.url,
        "--concurrency", "2"]);

    assert.equal(code, 0, output);
    const redraws = output.split("\r\x1b[K").slice(1);
    const bars = redraws.filter((text) => /^\[[# ]{24}\] +\d+% \d+\/30 \d+ rows\/s ETA \S+ tty\.csv/.test(text));
    assert.ok(bars.length >= 3, `expected redrawn progress lines, got:\n${JSON.stringify(output)}`);
    const percents = bars.map((text) => Number(/\] +(\d+)%/.exec(text)[1]));
    assert.deepEqual(percents, [...percents].sort((a, b) => a - b), "progress went backwards");
    assert.match(output, /file=tty\.csv rows=30 created=30/);
});

test("without a terminal there is no redrawing, only plain lines", async () => {
    const input = writeCsv(path.join(folder.path, "pipe.csv"), ["email", "password"],
        makeUsers(10, "pipe"));

    const result = await run(["import", input, "--url", backend.url, "--concurrency", "2"]);

    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stderr.includes("\r") && !result.stderr.includes("\x1b"), result.stderr);
    assert.match(result.stderr, /info import: file started file=pipe\.csv bytes=\d+ records=10/);
    assert.match(result.stdout, /^file=pipe\.csv rows=10 created=10 /);
    assert.ok(!existsSync(input), "the imported input (plaintext passwords) was deleted");
});
