// An engine that serves HTTPS (certificate and key from a fresh test PKI, see tls.ts) in
// front of FAKE agents (test/unit/engine/harness.ts), with automatic reset off so that
// imported VMs are down at once. Its api() trusts the test CA. For the TLS tests of the
// CLI and the web page, where no virt-sysprep run is needed.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { caFetch } from '../../engine-plugin/cli/caFetch';
import type { FakeAgentOptions } from '../unit/engine/fakeAgent';
import { harness, Harness } from '../unit/engine/harness';
import { makeTestPki, TestPki } from './tls';

export async function httpsHarness(dir: string, agent: Partial<FakeAgentOptions> = {}): Promise<{ pki: TestPki; h: Harness }> {
  const pki = await makeTestPki(path.join(dir, 'pki'));
  const off = { enabled: false, profile: 'clone-reset' };
  const h = await harness({
    agents: [agent],
    config: { tlsCert: pki.serverCert, tlsKey: pki.serverKey, autoReset: { clone: off, import: off, pool: off } },
    fetch: caFetch(readFileSync(pki.caCert, 'utf8')),
  });
  return { pki, h };
}
