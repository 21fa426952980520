import { checkReplace, mergeParams } from '../../../shared/catalog/mergeParams';
import { CUSTOMIZATIONS } from '../../../shared/catalog/customizations';

describe('mergeParams: a request over its profile', () => {
  const profile = {
    delete: ['/var/lib/cloud/*', '/etc/lvm/devices/system.devices'],
    truncate: ['/etc/machine-id'],
    hostname: 'golden',
    users: [{ name: 'student', groups: ['audio'] }, { name: 'teacher' }],
    groups: [{ name: 'students', gid: 2000 }],
    files: [{ path: '/etc/motd', content: 'old', mode: '0644' }],
    services: { enable: ['cups', 'sshd'], disable: ['bluetooth'] },
    firewall: { ports: ['22/tcp'] },
    keyboard: { layout: 'de', variant: 'nodeadkeys' },
    update: true,
    identity: 'all',
  };

  it.each([
    ['a list adds to the profile\'s', { delete: ['/root/notes'] }, undefined, 'delete', ['/var/lib/cloud/*', '/etc/lvm/devices/system.devices', '/root/notes']],
    ['an item already there is not repeated', { delete: ['/var/lib/cloud/*', '/tmp/x'] }, undefined, 'delete', ['/var/lib/cloud/*', '/etc/lvm/devices/system.devices', '/tmp/x']],
    ['replace: the request\'s list alone', { delete: ['/root/notes'] }, ['delete'], 'delete', ['/root/notes']],
    ['a scalar replaces', { hostname: 'pc-${index}' }, undefined, 'hostname', 'pc-${index}'],
    ['a boolean replaces', { update: false }, undefined, 'update', false],
    ['a key the request leaves out keeps the profile\'s', { hostname: 'x' }, undefined, 'truncate', ['/etc/machine-id']],
    ['a user of the same name: the request\'s wins, in its place', { users: [{ name: 'student', shell: '/bin/zsh' }, { name: 'guest' }] }, undefined, 'users',
      [{ name: 'student', shell: '/bin/zsh' }, { name: 'teacher' }, { name: 'guest' }]],
    ['a group of the same name: the request\'s wins', { groups: [{ name: 'students', gid: 3000 }] }, undefined, 'groups', [{ name: 'students', gid: 3000 }]],
    ['a file of the same path: the request\'s wins', { files: [{ path: '/etc/motd', content: 'new', mode: '0644' }] }, undefined, 'files', [{ path: '/etc/motd', content: 'new', mode: '0644' }]],
    ['services append per field', { services: { enable: ['classroom-agent'] } }, undefined, 'services', { enable: ['cups', 'sshd', 'classroom-agent'], disable: ['bluetooth'] }],
    ['a unit the request disables leaves the profile\'s enable', { services: { disable: ['cups'] } }, undefined, 'services', { enable: ['sshd'], disable: ['bluetooth', 'cups'] }],
    ['firewall ports append', { firewall: { ports: ['80/tcp', '22/tcp'] } }, undefined, 'firewall', { ports: ['22/tcp', '80/tcp'] }],
    ['keyboard (merge: replace) is taken whole', { keyboard: { layout: 'us' } }, undefined, 'keyboard', { layout: 'us' }],
    ["identity: items a request names add to the profile's 'all' (still all)", { identity: ['hostid'] }, undefined, 'identity', ['all', 'hostid']],
    ["identity: replace takes the request's items alone", { identity: ['hostid'] }, ['identity'], 'identity', ['hostid']],
  ])('%s', (_what, request, replace, key, expected) => {
    expect(mergeParams({ params: profile }, { params: request, replace })[key]).toEqual(expected);
  });

  it('merges layer by layer (a room file: defaults, room, group, then the profile under all)', () => {
    const merged = mergeParams({ params: { delete: ['/a'] } }, { params: { delete: ['/b'] } }, { params: { delete: ['/c'] }, replace: [] }, { params: { delete: ['/d'] }, replace: ['delete'] }, { params: { delete: ['/e'] } });
    expect(merged.delete).toEqual(['/d', '/e']);
  });

  it('leaves its inputs as they were', () => {
    const lower = { delete: ['/a'] };
    mergeParams({ params: lower }, { params: { delete: ['/b'] } });
    expect(lower).toEqual({ delete: ['/a'] });
  });

  it('every list-valued catalog entry appends unless it says replace', () => {
    const modes = Object.fromEntries(CUSTOMIZATIONS.map((c) => [c.key, c.merge ?? 'append']));
    expect(modes.keyboard).toBe('replace');
    expect(modes.delete).toBe('append');
  });
});

describe('checkReplace', () => {
  it.each([
    [{ params: { delete: ['/x'] }, replace: ['delete'] }, null],
    [{ params: { delete: ['/x'] }, replace: ['delete', 'nosuch'] }, 'replace[1]: "nosuch" is not a customisation key'],
    [{ params: { delete: ['/x'] }, replace: ['truncate'] }, 'replace[0]: truncate is not given in params'],
    [{ replace: ['delete'] }, 'replace[0]: delete is not given in params'],
  ])('%j', (layer, message) => {
    if (message === null) expect(() => checkReplace(layer)).not.toThrow();
    else expect(() => checkReplace(layer)).toThrow(message);
  });

  it('names the list where it was written', () => {
    expect(() => checkReplace({ replace: ['x'] }, 'rooms.lab.replace')).toThrow(/^rooms\.lab\.replace\[0\]/);
  });
});
