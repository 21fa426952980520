// compareTrees and its random-by-design rules (table tests), cryptForm, and the tar
// reader on archives GNU tar writes here (the format libguestfs' tar-out uses).
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync, linkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareTrees, cryptForm, formOf, RANDOM_BY_DESIGN, randomRuleFor, TreeEntry } from '../../../host-agent/batch/equivalence';
import { readTarMembers } from '../../../host-agent/batch/tarEntries';

const f = (p: string, over: Partial<TreeEntry> = {}): TreeEntry => ({ path: p, type: 'f', mode: 0o644, uid: 0, gid: 0, size: 3, sha256: 'aa', ...over });
const withForm = (p: string, content: string, over: Partial<TreeEntry> = {}): TreeEntry =>
  f(p, { size: content.length, sha256: content, form: formOf(p, Buffer.from(content)), ...over });
const H1 = '$6$abcdefgh$' + 'x'.repeat(86);
const H2 = '$6$zyxwvuts$' + 'y'.repeat(86);

describe('compareTrees', () => {
  it.each<[string, TreeEntry[], TreeEntry[], { path: string; what: string }[]]>([
    ['equal trees', [f('/a'), { path: '/d', type: 'd', mode: 0o755, uid: 0, gid: 0 }], [f('/a'), { path: '/d', type: 'd', mode: 0o755, uid: 0, gid: 0 }], []],
    ['only in a / only in b', [f('/a')], [f('/b')], [{ path: '/a', what: 'only in a' }, { path: '/b', what: 'only in b' }]],
    ['content, same size', [f('/a')], [f('/a', { sha256: 'bb' })], [{ path: '/a', what: 'content' }]],
    ['content, other size', [f('/a')], [f('/a', { size: 4, sha256: 'bb' })], [{ path: '/a', what: 'content (size 3 != 4)' }]],
    ['mode (special bits shown)', [f('/a')], [f('/a', { mode: 0o4755 })], [{ path: '/a', what: 'mode 644 != 4755' }]],
    ['owner', [f('/a')], [f('/a', { uid: 1000, gid: 1000 })], [{ path: '/a', what: 'uid 0 != 1000' }, { path: '/a', what: 'gid 0 != 1000' }]],
    ['type', [f('/a')], [{ path: '/a', type: 'l', mode: 0o777, uid: 0, gid: 0, target: 'x' }], [{ path: '/a', what: 'type f != l' }]],
    ['link target', [{ path: '/l', type: 'l', mode: 0o777, uid: 0, gid: 0, target: 'x' }], [{ path: '/l', type: 'l', mode: 0o777, uid: 0, gid: 0, target: 'y' }], [{ path: '/l', what: 'target x != y' }]],
    ['device numbers', [{ path: '/dev/null', type: 'o', mode: 0o666, uid: 0, gid: 0, target: 'char 1,3' }], [{ path: '/dev/null', type: 'o', mode: 0o666, uid: 0, gid: 0, target: 'char 1,5' }], [{ path: '/dev/null', what: 'target char 1,3 != char 1,5' }]],
    ['timestamps are not part of an entry: a sorted output', [f('/z'), f('/b')], [f('/b', { sha256: 'c' }), f('/z', { sha256: 'c' })], [{ path: '/b', what: 'content' }, { path: '/z', what: 'content' }]],
    // Random by design: machine-id
    ['machine-id: two random ids', [withForm('/etc/machine-id', 'a'.repeat(32) + '\n')], [withForm('/etc/machine-id', 'b'.repeat(32) + '\n')], []],
    ['machine-id: empty on both', [withForm('/etc/machine-id', '')], [withForm('/etc/machine-id', '')], []],
    ['machine-id: empty vs an id', [withForm('/etc/machine-id', '')], [withForm('/etc/machine-id', 'b'.repeat(32) + '\n')],
      [{ path: '/etc/machine-id', what: 'form "empty" != "32 hex" (random by design: /etc/machine-id)' }]],
    ['machine-id: still its mode', [withForm('/etc/machine-id', '')], [withForm('/etc/machine-id', '', { mode: 0o600 })], [{ path: '/etc/machine-id', what: 'mode 644 != 600' }]],
    ['machine-id: not hex', [withForm('/etc/machine-id', 'a'.repeat(32) + '\n')], [withForm('/etc/machine-id', 'Z'.repeat(32) + '\n')],
      [{ path: '/etc/machine-id', what: 'form "32 hex" != "other (33 bytes)" (random by design: /etc/machine-id)' }]],
    // random seed: same size
    ['random seed: other bytes, same size', [f('/var/lib/systemd/random-seed', { size: 512 })], [f('/var/lib/systemd/random-seed', { size: 512, sha256: 'bb' })], []],
    ['random seed: other size', [f('/var/lib/systemd/random-seed', { size: 512 })], [f('/var/lib/systemd/random-seed', { size: 32 })],
      [{ path: '/var/lib/systemd/random-seed', what: 'size 512 != 32 (random by design: /var/lib/systemd/random-seed, same size expected)' }]],
    // shadow: hash by form, every other field exactly
    ['shadow: two salts of one password', [withForm('/etc/shadow', `root:${H1}:19000:0:99999:7:::\n`)], [withForm('/etc/shadow', `root:${H2}:19000:0:99999:7:::\n`)], []],
    ['shadow: locked vs not', [withForm('/etc/shadow', `root:${H1}:19000::::::\n`)], [withForm('/etc/shadow', `root:!${H2}:19000::::::\n`)],
      [{ path: '/etc/shadow', what: 'form "root:$6$salt8$hash86:19000::::::\\n" != "root:!$6$salt8$hash86:19000::::::\\n" (random by design: /etc/shadow)' }]],
    ['shadow: another user', [withForm('/etc/shadow', `root:*:1::::::\n`)], [withForm('/etc/shadow', `root:*:1::::::\nbob:*:1::::::\n`)],
      [{ path: '/etc/shadow', what: expect.stringMatching(/^form .* \(random by design: \/etc\/shadow\)$/) as unknown as string }]],
    // catalogue 'regenerate' items: presence (type, mode, owner)
    ['ssh host key: new key', [f('/etc/ssh/ssh_host_ed25519_key', { mode: 0o600 })], [f('/etc/ssh/ssh_host_ed25519_key', { mode: 0o600, size: 9, sha256: 'bb' })], []],
    ['ssh host key: mode', [f('/etc/ssh/ssh_host_ed25519_key', { mode: 0o600 })], [f('/etc/ssh/ssh_host_ed25519_key', { mode: 0o644 })], [{ path: '/etc/ssh/ssh_host_ed25519_key', what: 'mode 600 != 644' }]],
    ['puppet ssl: a file below the directory', [f('/var/lib/puppet/ssl/certs/x.pem')], [f('/var/lib/puppet/ssl/certs/x.pem', { sha256: 'bb' })], []],
    ['not a rule: /etc/ssh/sshd_config', [f('/etc/ssh/sshd_config')], [f('/etc/ssh/sshd_config', { sha256: 'bb' })], [{ path: '/etc/ssh/sshd_config', what: 'content' }]],
    ['NM secret_key: same size', [f('/var/lib/NetworkManager/secret_key', { size: 64 })], [f('/var/lib/NetworkManager/secret_key', { size: 64, sha256: 'bb' })], []],
  ])('%s', (_name, a, b, expected) => {
    expect(compareTrees(a, b)).toEqual(expected);
  });

  it('every rule has a reason of one line and an absolute path; the catalogue regenerate items are in the table', () => {
    for (const r of RANDOM_BY_DESIGN) {
      expect(r.path).toMatch(/^\//);
      expect(r.reason).toMatch(/^[^\n]+$/);
      if (r.compare === 'content-form') expect(r.form).toBeInstanceOf(Function);
    }
    expect(randomRuleFor('/etc/iscsi/initiatorname.iscsi')?.compare).toBe('presence');
    expect(randomRuleFor('/var/lib/cloud/instances/i-1/obj.pkl')?.compare).toBe('presence');
    expect(randomRuleFor('/etc/machine-id-not')).toBeUndefined();
  });
});

describe('cryptForm', () => {
  it.each([
    [H1, '$6$salt8$hash86'],
    ['!' + H1, '!$6$salt8$hash86'],
    ['$6$rounds=5000$abc$def', '$6$rounds=5000$salt3$hash3'],
    ['$y$j9T$salt$hash', '$y$j9T$salt$hash'], // yescrypt params: not a $id$salt$hash shape, compared exactly
    ['*', '*'],
    ['!', '!'],
    ['', ''],
  ])('%s -> %s', (field, form) => expect(cryptForm(field)).toBe(form));
});

describe('readTarMembers (GNU tar archives)', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'tar-entries-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('types, modes, owners, contents, link targets, hard links, long names; kept contents only where asked', async () => {
    const root = path.join(dir, 'tree');
    const long = 'd'.repeat(120);
    mkdirSync(path.join(root, 'etc', long), { recursive: true });
    writeFileSync(path.join(root, 'etc', 'machine-id'), 'a'.repeat(32) + '\n');
    writeFileSync(path.join(root, 'etc', long, 'f'), 'x'.repeat(1000));
    chmodSync(path.join(root, 'etc', long, 'f'), 0o4750);
    writeFileSync(path.join(root, 'empty'), '');
    symlinkSync('etc/machine-id', path.join(root, 'link'));
    linkSync(path.join(root, 'etc', 'machine-id'), path.join(root, 'hard'));
    const tar = path.join(dir, 't.tar');
    execFileSync('tar', ['--format=gnu', '--numeric-owner', '--owner=7', '--group=8', '-C', root, '-cf', tar, '.']);
    const members = await readTarMembers(createReadStream(tar), (p) => p === '/etc/machine-id');
    const by = new Map(members.map((m) => [m.path, m]));
    expect(by.get('/')).toMatchObject({ type: 'd', uid: 7, gid: 8 });
    expect(by.get('/etc/machine-id')).toMatchObject({ type: 'f', size: 33, content: Buffer.from('a'.repeat(32) + '\n') });
    expect(by.get(`/etc/${long}/f`)).toMatchObject({ type: 'f', mode: 0o4750, size: 1000, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(by.get(`/etc/${long}/f`)!.content).toBeUndefined();
    expect(by.get('/empty')).toMatchObject({ type: 'f', size: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
    expect(by.get('/link')).toMatchObject({ type: 'l', target: 'etc/machine-id' });
    const hard = by.get('/hard')!;
    const first = by.get('/etc/machine-id')!;
    // Whichever name tar met second is a hard-link member: it gets the first one's content.
    expect(hard).toMatchObject({ type: 'f', size: 33, sha256: first.sha256 });
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(members).toHaveLength(8);
  });

  it('pax headers (POSIX format) give the path', async () => {
    const root = path.join(dir, 'pax');
    mkdirSync(path.join(root, 'x'.repeat(150)), { recursive: true });
    writeFileSync(path.join(root, 'x'.repeat(150), 'é file'), 'hi');
    const tar = path.join(dir, 'p.tar');
    execFileSync('tar', ['--format=pax', '-C', root, '-cf', tar, '.']);
    const members = await readTarMembers(createReadStream(tar));
    expect(members.map((m) => m.path)).toEqual(['/', `/${'x'.repeat(150)}`, `/${'x'.repeat(150)}/é file`]);
  });
});
