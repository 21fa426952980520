// The phony Windows image's registry hives, without an appliance: the empty hive this
// builder writes byte by byte opens in hivex, takes the merged keys, and reads back
// with hivexget as inspection and the Windows customisations read them.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emptyHive, phonyCmdExe, WINDOWS_GOLDEN, WINDOWS_SOFTWARE_REG, WINDOWS_SYSTEM_REG } from '../../helpers/windowsImage';

const get = (hive: string, key: string, value: string) =>
  execFileSync('hivexget', [hive, key, value], { encoding: 'utf8' }).trim();

describe('phony Windows image pieces', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'win-hive-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('an empty hive opens in hivex and has a root with no keys', async () => {
    const hive = path.join(dir, 'EMPTY');
    await fs.writeFile(hive, emptyHive('EMPTY'));
    expect(execFileSync('hivexsh', [hive], { input: 'ls\n', encoding: 'utf8' }).trim()).toBe('');
  });

  it.each([
    ['SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'ProductName', WINDOWS_GOLDEN.productName],
    ['SOFTWARE', 'Microsoft\\Windows NT\\CurrentVersion', 'CurrentMajorVersionNumber', String(WINDOWS_GOLDEN.majorVersion)],
    ['SYSTEM', 'Select', 'Current', '1'],
    ['SYSTEM', 'ControlSet001\\Control\\ComputerName\\ComputerName', 'ComputerName', WINDOWS_GOLDEN.computerName],
    ['SYSTEM', 'ControlSet001\\Services\\Tcpip\\Parameters', 'Hostname', WINDOWS_GOLDEN.computerName],
  ] as const)('%s merged: %s\\%s', async (name, key, value, expected) => {
    const reg = name === 'SOFTWARE' ? WINDOWS_SOFTWARE_REG : WINDOWS_SYSTEM_REG;
    const hive = path.join(dir, name);
    await fs.writeFile(hive, emptyHive(name));
    await fs.writeFile(`${hive}.reg`, reg);
    execFileSync('hivexregedit', ['--merge', '--prefix', `HKEY_LOCAL_MACHINE\\${name}`, hive, `${hive}.reg`]);
    expect(get(hive, key, value)).toBe(expected);
  });

  it('cmd.exe is what `file` names a 64-bit PE (inspection takes the arch from it)', async () => {
    const exe = path.join(dir, 'cmd.exe');
    await fs.writeFile(exe, phonyCmdExe());
    expect(execFileSync('file', ['-b', exe], { encoding: 'utf8' })).toMatch(/^PE32\+ executable .*x86-64/);
  });
});
