// The plugin's SSO login against the oVirt API test server in both account setups:
// aaa-jdbc ("name@internal", upgraded installs) and Keycloak ("name@ovirt@internalsso",
// new installs since 4.5.1: ovirt-engine-keycloak 2305429 keycloak_usage.md). The
// refusals are the SSO's own (ovirt-engine 0111fc6 enginesso OAuthTokenServlet,
// SsoService.sendJsonDataWithMessage: HTTP 400 {error_code, error} for scope ovirt-app-api).
import 'reflect-metadata';
import { createLogger } from '../../../engine-plugin/logger';
import { OvirtClient, ssoRefusal } from '../../../engine-plugin/ovirt/OvirtClient';
import { ovirtWithDefaults } from '../../../engine-plugin/ovirt/OvirtConfig';
import { OvirtApiServer, PASSWORDS } from '../../helpers/ovirtApiServer';

const log = createLogger('error', '');

describe('OvirtClient SSO login (oVirt API test server)', () => {
  let server: OvirtApiServer;
  const clients: OvirtClient[] = [];
  const client = (username: string, password: string) => {
    const c = new OvirtClient(ovirtWithDefaults({ url: server.url, username, password, mountRoot: '/rhev/data-center/mnt', agentPort: 54323 }), log);
    clients.push(c);
    return c;
  };
  const loginError = async (c: OvirtClient) => (await c.get('/hosts').then(() => undefined, (e: unknown) => e)) as Error & { code: string; details: Record<string, unknown> };

  beforeEach(async () => {
    server = new OvirtApiServer();
    await server.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.stop();
  });

  it('reports a wrong password with the SSO code and message, a hint on the user name, never the password', async () => {
    const err = await loginError(client('admin@internal', 'wrong-password'));
    expect(err).toMatchObject({ code: 'OVIRT_LOGIN_FAILED', details: { status: 400, ssoError: 'access_denied' } });
    // AppMessages.properties CANNOT_AUTHENTICATE_USER_IN_DOMAIN with USER_FAILED_TO_AUTHENTICATE.
    expect(err.message).toContain("access_denied: Cannot authenticate user 'admin@internal': Unable to log in.");
    expect(err.message).toContain('@ovirt@internalsso');
    expect(err.message).not.toContain('wrong-password');
  });

  it('logs in to a Keycloak engine as name@ovirt@internalsso', async () => {
    server.sso = 'keycloak';
    const c = client('admin@ovirt@internalsso', PASSWORDS['admin@internal']);
    await expect(c.get('/hosts')).resolves.toBeDefined();
    expect(server.logins).toEqual(['admin@ovirt@internalsso']);
  });

  it('names the profile as the cause when an aaa-jdbc user name meets a Keycloak engine', async () => {
    server.sso = 'keycloak';
    const err = await loginError(client('admin@internal', PASSWORDS['admin@internal']));
    // ExternalOIDCService: CANNOT_AUTHENTICATE_USER around NO_VALID_PROFILE_IN_CREDENTIALS.
    expect(err.message).toContain('access_denied: Cannot authenticate user No valid profile found in credentials.');
    expect(err.message).toContain('"ovirt-sysprep@ovirt@internalsso" (Keycloak');
  });

  it.each([
    // scope ovirt-app-api alone (the plugin's): {error_code, error}
    ['{"error_code":"access_denied","error":"Cannot authenticate user x."}', { code: 'access_denied', message: 'Cannot authenticate user x.' }],
    // any other scope: {error, error_description}
    ['{"error":"invalid_grant","error_description":"expired"}', { code: 'invalid_grant', message: 'expired' }],
    ['<html>proxy error</html>', undefined],
    ['{"access_token":"t"}', undefined],
  ])('reads the SSO refusal %s', (body, expected) => {
    expect(ssoRefusal(body)).toEqual(expected);
  });
});
