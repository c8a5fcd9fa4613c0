// The shipped unit: `systemd-analyze verify` passes and `systemd-analyze security` rates it
// 2.0 or below; the settings the service relies on are there.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { BINARY, tempFolder } from "./daemon.mjs";

const UNIT = fileURLToPath(new URL("../../systemd/convex-importd.service", import.meta.url));
const MAX_EXPOSURE = 2.0;

let folder;
let unit;

before(() => {
    folder = tempFolder();
    // verify checks that ExecStart= exists; point it at the binary just built.
    unit = path.join(folder.path, "convex-importd.service");
    writeFileSync(unit, readFileSync(UNIT, "utf8")
        .replace("ExecStart=/usr/bin/convex-importd", `ExecStart=${BINARY}`));
});

after(() => folder?.remove());

function analyze(args) {
    return spawnSync("systemd-analyze", args, { encoding: "utf8", timeout: 60_000 });
}

function settings() {
    const lines = readFileSync(UNIT, "utf8").split("\n").filter((line) => /^[A-Z]\w*=/.test(line));
    return lines.map((line) => line.split(/=(.*)/s).slice(0, 2));
}

function setting(name) {
    return settings().filter(([key]) => key === name).map(([, value]) => value);
}

test("systemd-analyze verify passes", () => {
    const result = analyze(["verify", unit]);

    assert.equal(result.status, 0, result.stderr + result.stdout);
    assert.equal(result.stderr.trim(), "");
});

test("systemd-analyze security rates the unit 2.0 or below", () => {
    const result = analyze(["security", "--offline=true", unit]);

    assert.equal(result.status, 0, result.stderr);
    const match = /Overall exposure level for convex-importd\.service: (\d+\.\d+)/.exec(result.stdout);
    assert.ok(match, result.stdout);
    const exposure = Number(match[1]);
    console.log(`# systemd-analyze security: ${exposure}`);
    assert.ok(exposure <= MAX_EXPOSURE, `exposure ${exposure} > ${MAX_EXPOSURE}\n${result.stdout}`);
});

test("the unit is Type=notify with a watchdog, restarts on failure and reloads with SIGHUP", () => {
    assert.deepEqual(setting("Type"), ["notify"]);
    assert.match(setting("WatchdogSec")[0], /^\d+s$/);
    assert.deepEqual(setting("Restart"), ["on-failure"]);
    assert.deepEqual(setting("RestartPreventExitStatus"), ["2"]);
    assert.deepEqual(setting("ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    assert.match(setting("ExecStart")[0], /^\/usr\/bin\/convex-importd watch --config \/etc\/convex-importd\/convex-importd\.toml$/);
});

test("it runs as a dynamic user with its own state, logs and configuration directories", () => {
    assert.deepEqual(setting("DynamicUser"), ["yes"]);
    assert.deepEqual(setting("StateDirectory"), ["convex-importd"]);
    assert.deepEqual(setting("LogsDirectory"), ["convex-importd"]);
    assert.deepEqual(setting("ConfigurationDirectory"), ["convex-importd"]);
    assert.deepEqual(setting("LoadCredential"), ["convex-importd.deploy-key"]);
    assert.deepEqual(setting("UMask"), ["0077"]);
});

test("the hardening the issue asks for is all there", () => {
    const expected = {
        ProtectSystem: "strict", ProtectHome: "yes", PrivateTmp: "yes", PrivateDevices: "yes",
        NoNewPrivileges: "yes", CapabilityBoundingSet: "",
        RestrictAddressFamilies: "AF_UNIX AF_INET AF_INET6", MemoryDenyWriteExecute: "yes",
    };
    for (const [name, value] of Object.entries(expected)) {
        assert.deepEqual(setting(name), [value], name);
    }
    assert.ok(setting("SystemCallFilter").includes("@system-service"));
});
