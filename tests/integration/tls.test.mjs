// TLS: the test backend serves HTTPS with a certificate from a CA made here (openssl CLI).
// Without that CA the import fails on the certificate and sends nothing; with ca_file it
// imports; a certificate for another name is refused.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";

import { startBackend } from "./backend.mjs";
import { makeUsers, readResults, run, start, tempFolder, waitFor, writeCsv } from "./daemon.mjs";

let folder;
let ca;
let trusted;  // a backend whose certificate names 127.0.0.1
let misnamed;  // a backend whose certificate names another host

function openssl(args) {
    execFileSync("openssl", args, { cwd: folder.path, stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
}

function makeCa() {
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=convex-importd test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    return path.join(folder.path, "ca.pem");
}

function makeServerCertificate(name, subjectAltName) {
    writeFileSync(path.join(folder.path, `${name}.ext`), [
        `subjectAltName=${subjectAltName}`,
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth",
    ].join("\n"));
    openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`]);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`]);
    return ["--tls-cert", path.join(folder.path, `${name}.pem`),
        "--tls-key", path.join(folder.path, `${name}.key`)];
}

before(async () => {
    folder = tempFolder();
    ca = makeCa();
    trusted = await startBackend({ fast: true,
        extraArgs: makeServerCertificate("loopback", "IP:127.0.0.1,DNS:localhost") });
    misnamed = await startBackend({ fast: true,
        extraArgs: makeServerCertificate("other", "DNS:other.example") });
});

after(async () => {
    await trusted?.stop();
    await misnamed?.stop();
    folder?.remove();
});

function usersFile(name, count) {
    return writeCsv(path.join(folder.path, name), ["email", "password"], makeUsers(count, name));
}

test("the backend really speaks HTTPS here", () => {
    assert.match(trusted.url, /^https:\/\/127\.0\.0\.1:\d+$/);
});

test("without the CA the import fails on the certificate and sends no sign-up", async () => {
    await trusted.resetStats();
    const input = usersFile("untrusted.csv", 3);

    const result = await run(["import", input, "--url", trusted.url]);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /file failed file=untrusted\.csv reason="TLS with 127\.0\.0\.1:\d+ failed: tls: certificate verify failed .*\(unable to get local issuer certificate\); no sign-up was sent\. If the deployment uses a private CA, set deployment\.ca_file \(--ca-file\)/);
    const stats = await trusted.stats();
    assert.equal(stats.requests, 0);
    assert.equal(stats.calls["auth:signIn"], undefined);
    assert.ok(!existsSync(`${input}.results.csv`));
    assert.ok(existsSync(input), "a file that was not imported is not deleted");
});

test("with ca_file the import succeeds over TLS", async () => {
    const input = usersFile("trusted.csv", 3);

    const result = await run(["import", input, "--url", trusted.url, "--ca-file", ca]);

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readResults(`${input}.results.csv`).map((row) => row.outcome),
        ["created", "created", "created"]);
});

test("a certificate for another host name is refused even from a trusted CA", async () => {
    await misnamed.resetStats();

    const result = await run(["import", usersFile("misnamed.csv", 2), "--url", misnamed.url,
        "--ca-file", ca]);

    assert.equal(result.code, 1);
    assert.match(result.stderr, /certificate verify failed .*\(IP address mismatch\)/);
    assert.equal((await misnamed.stats()).requests, 0);
});

// openssl s_server with the loopback certificate: it completes handshakes and never answers
// a request (what it reads goes to its standard output, which is only scanned for the port).
async function sServer(extraArgs = []) {
    const server = spawn("openssl", ["s_server", "-accept", "127.0.0.1:0", ...extraArgs,
        "-cert", path.join(folder.path, "loopback.pem"),
        "-key", path.join(folder.path, "loopback.key")], { stdio: ["pipe", "pipe", "ignore"] });
    const lines = createInterface({ input: server.stdout });
    const port = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("s_server did not start")), 10_000);
        lines.on("line", (line) => {
            const match = /^ACCEPT 127\.0\.0\.1:(\d+)$/.exec(line);
            if (match) {
                clearTimeout(timer);
                resolve(match[1]);
            }
        });
    });
    return { url: `https://127.0.0.1:${port}`, stop: () => server.kill("SIGKILL") };
}

// Offering TLS 1.1 alone, the security level lowered so that it may.
function tls11Server() {
    return sServer(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
}

test("a server that offers only TLS 1.1 is refused", async () => {
    const server = await tls11Server();
    try {
        const result = await run(["import", usersFile("old-tls.csv", 1), "--url", server.url,
            "--ca-file", ca], { timeoutMs: 30_000 });

        assert.equal(result.code, 1);
        assert.match(result.stderr, /TLS with 127\.0\.0\.1:\d+ failed: tls: (unsupported protocol|.*protocol version)/);
    } finally {
        server.stop();
    }
});

test("an HTTPS server that never answers ends the row failed on the read timeout", async () => {
    const server = await sServer();
    try {
        const input = usersFile("silent.csv", 1);
        const started = Date.now();
        const result = await run(["import", input, "--url", server.url, "--ca-file", ca,
            "--read-timeout", "1s", "--max-attempts", "1"], { timeoutMs: 30_000 });

        assert.equal(result.code, 0, result.stderr);
        const [row] = readResults(`${input}.results.csv`);
        assert.equal(row.outcome, "failed");
        assert.match(row.detail, /^read: no answer within the read timeout/);
        assert.ok(Date.now() - started < 10_000, "the timeout, not the test's limit, ended it");
    } finally {
        server.stop();
    }
});

test("watch stops with the certificate error and leaves the file in processing/", async () => {
    const spool = path.join(folder.path, "spool");
    const daemon = start(["watch", "--url", trusted.url, "--spool", spool]);
    await waitFor(() => existsSync(path.join(spool, "inbox")), { what: "the spool" });
    await trusted.resetStats();
    const staged = usersFile("watched.csv", 2);
    renameSync(staged, path.join(spool, "inbox", "watched.csv"));

    const timer = setTimeout(() => daemon.kill("SIGKILL"), 30_000);
    const [code] = await once(daemon, "exit");
    clearTimeout(timer);

    assert.equal(code, 1, daemon.output);
    assert.match(daemon.output, /error main: stopping reason=.*certificate verify failed/);
    assert.ok(existsSync(path.join(spool, "processing", "watched.csv")));
    assert.equal((await trusted.stats()).requests, 0);
});
