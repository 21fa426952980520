// The release version of the engine, the agent and the CLI (one package): `--version`,
// GET /health, the agent's capabilities. A unit test keeps it equal to package.json's.
export const VERSION = '0.1.0';
