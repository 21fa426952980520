import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseOperationList } from '../../../shared/catalog/operations';
import { resolveSpec } from '../../../shared/spec';
import { buildGuestfishPlan, hasWindowsParams } from '../../../host-agent/windows/guestfishPlan';

const OPS = parseOperationList(readFileSync(path.join(__dirname, '../../fixtures/virt-sysprep-1.48-list-operations.txt'), 'utf8'));
const DISK = { path: '/srv/images/win.qcow2', format: 'qcow2' };

function plan(params: Record<string, unknown>) {
  const spec = resolveSpec({ params }, OPS);
  return { spec, plan: buildGuestfishPlan({ disks: [DISK], params: spec.params, filesDir: '/run/job1' }) };
}
const scriptOf = (p: ReturnType<typeof plan>['plan']) => p.files[0].content.trimEnd().split('\n');

describe('buildGuestfishPlan', () => {
  it('Windows params alone select no virt-sysprep operation', () => {
    expect(resolveSpec({ params: { computerName: 'WIN-7' } }, OPS).operations).toEqual([]);
    expect(resolveSpec({ operations: { only: [] }, params: { computerName: 'WIN-7' } }, OPS).operations).toEqual([]);
    // Named operations still run (the OS guard, not the resolver, refuses them on Windows).
    expect(resolveSpec({ operations: { only: ['logfiles'] }, params: { computerName: 'WIN-7' } }, OPS).operations).toEqual(['logfiles']);
    expect(hasWindowsParams({ computerName: 'x' })).toBe(true);
    expect(hasWindowsParams({ hostname: 'x' })).toBe(false);
  });

  it('argv: trace, --format= before each -a, -i, the script file; no value of the params', () => {
    const { plan: p } = plan({ computerName: 'WIN-7' });
    expect(p.argv).toEqual(['-x', '--format=qcow2', '-a', DISK.path, '-i', '-f', '/run/job1/windows.guestfish']);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['computer name: one SYSTEM merge', { computerName: 'WIN-7' }, [
      'download /Windows/System32/config/SYSTEM /run/job1/hive-SYSTEM',
      "! hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\\SYSTEM' /run/job1/hive-SYSTEM /run/job1/w0",
      'upload /run/job1/hive-SYSTEM /Windows/System32/config/SYSTEM',
      'umount-all', 'sync',
    ]],
    ['answer file and SetupComplete uploaded, registry edits of two hives merged per hive', {
      unattend: { timeZone: 'UTC' },
      setupComplete: 'echo hi\n',
      computerName: 'WIN-7',
      registry: [{ hive: 'SOFTWARE', key: 'Policies\\X', name: 'On', type: 'dword', data: 1 }, { hive: 'SYSTEM', key: 'CurrentControlSet\\Services\\Y', name: 'Start', type: 'dword', data: 4 }],
    }, [
      'mkdir-p /Windows/Panther', 'upload /run/job1/w0 /Windows/Panther/unattend.xml',
      'mkdir-p /Windows/Setup/Scripts', 'upload /run/job1/w1 /Windows/Setup/Scripts/SetupComplete.cmd',
      'download /Windows/System32/config/SYSTEM /run/job1/hive-SYSTEM',
      "! hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\\SYSTEM' /run/job1/hive-SYSTEM /run/job1/w2",
      'upload /run/job1/hive-SYSTEM /Windows/System32/config/SYSTEM',
      'download /Windows/System32/config/SOFTWARE /run/job1/hive-SOFTWARE',
      "! hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\\SOFTWARE' /run/job1/hive-SOFTWARE /run/job1/w3",
      'upload /run/job1/hive-SOFTWARE /Windows/System32/config/SOFTWARE',
      'umount-all', 'sync',
    ]],
  ])('%s', (_name, params, script) => {
    expect(scriptOf(plan(params).plan)).toEqual(script);
  });

  it('the domain password and the SetupComplete script are only in planned files, never in argv or the script', () => {
    const { plan: p } = plan({
      computerName: 'WIN-7',
      unattend: { domain: { name: 'corp.example', user: 'joiner' } },
      domainJoinPassword: 'S3cr3t-join!',
      setupComplete: 'net user admin Hidden-Pw /add\n',
    });
    const text = [...p.argv, p.files[0].content].join('\n');
    expect(text).not.toContain('S3cr3t-join!');
    expect(text).not.toContain('Hidden-Pw');
    const unattend = p.files.find((f) => f.content.includes('<unattend'))!.content;
    expect(unattend).toContain('<Password>S3cr3t-join!</Password>');
    expect(unattend).toContain('<ComputerName>WIN-7</ComputerName>');
    expect(p.files.find((f) => f.content.includes('Hidden-Pw'))!.content).toBe('net user admin Hidden-Pw /add\r\n');
  });

  it('a domain join needs its password, and the password its domain join', () => {
    expect(() => resolveSpec({ params: { unattend: { domain: { name: 'corp.example', user: 'j' } } } }, OPS)).toThrow('params.domainJoinPassword: is required');
    expect(() => resolveSpec({ params: { domainJoinPassword: 'x' } }, OPS)).toThrow('params.domainJoinPassword: is used only with params.unattend.domain');
  });
});
