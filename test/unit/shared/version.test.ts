// One version for the engine, the agent and the CLI: shared/version.ts, kept equal to
// package.json's (the executables' --version, GET /health, the agent's capabilities).
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ENGINE_VERSION } from '../../../engine-plugin/api/catalogRoutes';
import { AGENT_VERSION } from '../../../host-agent/capabilities';
import { VERSION } from '../../../shared/version';

it('is package.json\'s version everywhere', () => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'));
  expect([VERSION, ENGINE_VERSION, AGENT_VERSION]).toEqual([pkg.version, pkg.version, pkg.version]);
});
