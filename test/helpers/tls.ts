// Test PKI for the TLS tests (mutual TLS to the agents, the engine's HTTPS), made with
// the `openssl` command (EC P-256, fast).
//
//   ca        -> server (SAN DNS:localhost, IP:127.0.0.1), client,
//                expiredServer (as server, but its validity ended yesterday)
//   otherCa   -> rogueClient      (unrelated CA: a server trusting `ca` must refuse it)

import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface TestPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCaCert: string;
  rogueClientCert: string;
  rogueClientKey: string;
  expiredServerCert: string;
  expiredServerKey: string;
}

const DAYS = '3650';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd, timeout: 60_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

async function makeCa(dir: string, name: string, cn: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await openssl([
    'req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', DAYS, '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ], dir);
  return { cert, key };
}

async function makeLeaf(
  dir: string,
  name: string,
  cn: string,
  ca: { cert: string; key: string },
  extensions: string,
  days = DAYS,
): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  await fs.writeFile(ext, extensions);
  await openssl(['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`], dir);
  await openssl([
    'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key,
    '-set_serial', `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
    '-days', days, '-sha256', '-extfile', ext, '-out', cert,
  ], dir);
  await fs.rm(csr, { force: true });
  await fs.rm(ext, { force: true });
  await fs.chmod(key, 0o600);
  return { cert, key };
}

/** Create a CA, a server cert, a client cert, an expired server cert, and an unrelated CA with its own client. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  await fs.mkdir(dir, { recursive: true });
  const [ca, otherCa] = await Promise.all([
    makeCa(dir, 'ca', 'ovirt-sysprep test CA'),
    makeCa(dir, 'other-ca', 'unrelated test CA'),
  ]);
  const serverExtensions =
    'basicConstraints=critical,CA:FALSE\n' +
    'keyUsage=critical,digitalSignature,keyEncipherment\n' +
    'extendedKeyUsage=serverAuth\n' +
    'subjectAltName=DNS:localhost,IP:127.0.0.1\n';
  const [server, client, rogue, expired] = await Promise.all([
    makeLeaf(dir, 'server', 'localhost', ca, serverExtensions),
    makeLeaf(dir, 'client', 'test-engine', ca,
      'basicConstraints=critical,CA:FALSE\n' +
      'keyUsage=critical,digitalSignature\n' +
      'extendedKeyUsage=clientAuth\n'),
    makeLeaf(dir, 'rogue-client', 'rogue-engine', otherCa,
      'basicConstraints=critical,CA:FALSE\n' +
      'keyUsage=critical,digitalSignature\n' +
      'extendedKeyUsage=clientAuth\n'),
    makeLeaf(dir, 'expired-server', 'localhost', ca, serverExtensions, '-1'),
  ]);
  return {
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCaCert: otherCa.cert,
    rogueClientCert: rogue.cert,
    rogueClientKey: rogue.key,
    expiredServerCert: expired.cert,
    expiredServerKey: expired.key,
  };
}

/**
 * base64(SHA-256(SubjectPublicKeyInfo)) of a certificate: what Chromium's
 * --ignore-certificate-errors-spki-list takes to trust that one server key.
 */
export function spkiHash(certFile: string): string {
  const spki = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
