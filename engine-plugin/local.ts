// Single-machine mode (`ovirt-sysprep-engine --local`, `npm start`, the demo): a host
// agent in this process on loopback (plaintext, loopback only), its storage root
// `<data dir>/images`, the embedded inventory, and an admin token kept in
// `<data dir>/admin.token` (0600) when the config names none.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startAgent } from '../host-agent/agent';
import { AGENT_KEYS, AgentConfig } from '../host-agent/config';
import { parseSection } from '../shared/config';
import { apiTransport } from './apiServer';
import type { EngineConfig } from './config';
import { RunningEngine, startEngine } from './engine';

export interface LocalStack {
  engine: RunningEngine;
  agent: { address: string; hostId: string; stop(): Promise<void> };
  token: string;
  /** Where the generated admin token is, when the config named none. */
  tokenFile?: string;
  imagesDir: string;
  stop(): Promise<void>;
}

/** `[local_agent]` keys of engine.conf are agent.conf keys, parsed by the agent's own key table. */
export function localAgentOverrides(section: Record<string, string> | undefined): Partial<AgentConfig> {
  return parseSection(AGENT_KEYS, section ?? {}, 'engine.conf: [local_agent]');
}

export async function startLocalStack(config: EngineConfig, agentSection?: Record<string, string>): Promise<LocalStack> {
  apiTransport(config); // a listen/TLS setting the engine would refuse stops us before the agent starts
  const dataDir = path.resolve(config.dataDir);
  const imagesDir = path.join(dataDir, 'images');
  mkdirSync(imagesDir, { recursive: true });
  const overrides = localAgentOverrides(agentSection);
  const agent = await startAgent({
    hostId: 'local',
    listen: '127.0.0.1:0',
    dataDir: path.join(dataDir, 'agent'),
    logDir: path.join(dataDir, 'agent', 'logs'),
    // Per data dir, so stacks side by side never share one (the agent empties it at start).
    secretsDir: path.join(dataDir, 'agent', 'secrets'),
    storageRoots: [imagesDir],
    plaintext: true,
    ...overrides,
  });
  let token = config.tokens.find((t) => t.role === 'admin')?.token;
  let tokenFile: string | undefined;
  if (!token) {
    const file = (tokenFile = path.join(dataDir, 'admin.token'));
    if (!existsSync(file)) writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    token = readFileSync(file, 'utf8').trim();
    config.tokens = [{ name: 'admin', role: 'admin', token }];
  }
  const roots = (overrides.storageRoots as string[] | undefined) ?? [imagesDir];
  config.hosts = [...config.hosts.filter((h) => h.id !== agent.hostId), { id: agent.hostId, name: agent.hostId, address: agent.address, storageRoots: roots.map((r) => path.resolve(r)) }];
  config.agentTls = null;
  let engine: RunningEngine;
  try {
    engine = await startEngine({ ...config, dataDir });
  } catch (err) {
    await agent.stop();
    throw err;
  }
  return {
    engine,
    agent,
    token,
    tokenFile,
    imagesDir,
    async stop() {
      await engine.stop();
      await agent.stop();
    },
  };
}
