// `cpack -G DEB` builds a package with the binary, the unit, the example configuration (a
// conffile) and the README; as root, it installs, `convex-importd --version` runs, and it
// is removed again.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { tempFolder } from "./daemon.mjs";

const BUILD = process.env.CONVEX_IMPORTD_BUILD_DIR ??
    fileURLToPath(new URL("../../build", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const VERSION = /project\(convex_importd VERSION (\S+)/.exec(
    readFileSync(path.join(ROOT, "CMakeLists.txt"), "utf8"))[1];
const DPKG_LOCK_WAIT_MS = 120_000;

let folder;
let deb;

function command(program, args, options = {}) {
    const result = spawnSync(program, args, { encoding: "utf8", timeout: 300_000, ...options });
    assert.equal(result.status, 0, `${program} ${args.join(" ")}\n${result.stderr}${result.stdout}`);
    return result.stdout;
}

// Another apt or dpkg run may hold the lock for a while on a shared machine.
async function dpkg(args) {
    const deadline = Date.now() + DPKG_LOCK_WAIT_MS;
    for (;;) {
        const result = spawnSync("dpkg", args, { encoding: "utf8", timeout: 300_000 });
        if (result.status === 0 || !/lock/i.test(result.stderr) || Date.now() > deadline) {
            assert.equal(result.status, 0, `dpkg ${args.join(" ")}\n${result.stderr}`);
            return result.stdout;
        }
        await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
}

before(() => {
    folder = tempFolder();
    command("cpack", ["-G", "DEB", "--config", path.join(BUILD, "CPackConfig.cmake"),
        "-B", folder.path]);
    deb = readdirSync(folder.path).find((name) => name.endsWith(".deb"));
    assert.ok(deb, "cpack made no .deb");
    deb = path.join(folder.path, deb);
});

after(() => folder?.remove());

test("the package holds the binary, the unit, the example config, logrotate and the README", () => {
    const files = command("dpkg-deb", ["--contents", deb]).split("\n")
        .map((line) => line.split(/\s+/).at(-1)).filter(Boolean);

    for (const expected of [
        "./usr/bin/convex-importd",
        "./usr/lib/systemd/system/convex-importd.service",
        "./etc/convex-importd/convex-importd.toml",
        "./etc/logrotate.d/convex-importd",
        "./usr/share/doc/convex-importd/README.md",
    ]) {
        assert.ok(files.includes(expected), `${expected} missing from\n${files.join("\n")}`);
    }
});

test("its configuration files are conffiles and its control data names the package", () => {
    const conffiles = command("dpkg-deb", ["--info", deb, "conffiles"]).trim().split("\n");
    assert.deepEqual(conffiles, ["/etc/convex-importd/convex-importd.toml",
        "/etc/logrotate.d/convex-importd"]);
    assert.equal(command("dpkg-deb", ["--field", deb, "Package"]).trim(), "convex-importd");
    assert.equal(command("dpkg-deb", ["--field", deb, "Version"]).trim(), VERSION);
    assert.match(command("dpkg-deb", ["--field", deb, "Depends"]), /libtomlplusplus3/);
});

test("installed, convex-importd --version runs, and the package is removed again", async (t) => {
    if (process.getuid() !== 0) {
        t.skip("installing needs root (CI runs as root on a throwaway machine)");
        return;
    }
    await dpkg(["--install", deb]);
    try {
        const version = command("/usr/bin/convex-importd", ["--version"]).trim();
        assert.equal(version, `convex-importd ${VERSION}`);
        command("systemd-analyze", ["verify", "/usr/lib/systemd/system/convex-importd.service"]);
        const status = command("dpkg-query", ["--show", "--showformat=${Status}", "convex-importd"]);
        assert.equal(status, "install ok installed");
    } finally {
        await dpkg(["--purge", "convex-importd"]);
    }
    assert.ok(!existsSync("/usr/bin/convex-importd"), "the binary is still installed");
});
