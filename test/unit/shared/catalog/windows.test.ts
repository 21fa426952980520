import { computerNameEdits, registryEdit, renderReg } from '../../../../shared/catalog/windows/registry';
import { renderUnattend, unattendSchema } from '../../../../shared/catalog/windows/unattend';
import { guestOsMismatches } from '../../../../shared/catalog/guestOsGuard';
import { renderParams, SAMPLE_CONTEXT } from '../../../../shared/catalog/patterns';
import { validateParams } from '../../../../shared/spec';
import type { GuestOs } from '../../../../shared/guestOs';

describe('renderReg', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['sz, quotes and backslashes escaped', { name: 'Path', type: 'sz', data: 'C:\\a "b"' }, '"Path"="C:\\\\a \\"b\\""'],
    ['default value', { name: '', type: 'sz', data: 'x' }, '@="x"'],
    ['dword', { name: 'Start', type: 'dword', data: 4 }, '"Start"=dword:00000004'],
    ['qword little-endian', { name: 'Q', type: 'qword', data: 258 }, '"Q"=hex(b):02,01,00,00,00,00,00,00'],
    ['qword above 2^53 as a decimal string', { name: 'Q', type: 'qword', data: '18446744073709551615' }, '"Q"=hex(b):ff,ff,ff,ff,ff,ff,ff,ff'],
    ['expand_sz as UTF-16LE with its NUL', { name: 'E', type: 'expand_sz', data: '%A%' }, '"E"=hex(2):25,00,41,00,25,00,00,00'],
    ['multi_sz ends with two NULs', { name: 'M', type: 'multi_sz', data: ['a', 'b'] }, '"M"=hex(7):61,00,00,00,62,00,00,00,00,00'],
    ['binary', { name: 'B', type: 'binary', data: '0aff' }, '"B"=hex:0a,ff'],
    ['delete', { name: 'Old', delete: true }, '"Old"=-'],
  ])('%s', (_n, value, line) => {
    const e = registryEdit.parse({ hive: 'SOFTWARE', key: 'K', ...value });
    expect(renderReg('SOFTWARE', [e]).split('\r\n')).toEqual(['Windows Registry Editor Version 5.00', '', '[HKEY_LOCAL_MACHINE\\SOFTWARE\\K]', line, '']);
  });

  it('writes CurrentControlSet as ControlSet001 and groups values by key', () => {
    const text = renderReg('SYSTEM', computerNameEdits('WIN-7'));
    expect(text).toContain('[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\ComputerName\\ComputerName]\r\n"ComputerName"="WIN-7"');
    expect(text).toContain('[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Tcpip\\Parameters]\r\n"Hostname"="WIN-7"\r\n"NV Hostname"="WIN-7"');
    const e = registryEdit.parse({ hive: 'SYSTEM', key: 'CurrentControlSet\\Services\\X', name: 'Start', type: 'dword', data: 4 });
    expect(renderReg('SYSTEM', [e])).toContain('[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\X]');
  });

  it('opens every ancestor of a key first (hivexregedit creates a key only below an existing one)', () => {
    const e = registryEdit.parse({ hive: 'SOFTWARE', key: 'A\\B\\C', name: 'n', type: 'dword', data: 1 });
    const f = registryEdit.parse({ hive: 'SOFTWARE', key: 'A\\D', name: 'm', type: 'dword', data: 2 });
    expect(renderReg('SOFTWARE', [e, f]).split('\r\n').filter((l) => l.startsWith('['))).toEqual([
      '[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]', '[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\B]', '[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\B\\C]', '[HKEY_LOCAL_MACHINE\\SOFTWARE\\A\\D]',
    ]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['unknown hive', { hive: 'SAM', key: 'K', name: 'n', type: 'sz', data: 'x' }, 'hive'],
    ['key with brackets', { hive: 'SYSTEM', key: 'A]\n[B', name: 'n', type: 'sz', data: 'x' }, 'key'],
    ['empty key component', { hive: 'SYSTEM', key: 'A\\\\B', name: 'n', type: 'sz', data: 'x' }, 'key'],
    ['dword out of range', { hive: 'SYSTEM', key: 'K', name: 'n', type: 'dword', data: -1 }, 'data'],
    ['string with a newline', { hive: 'SYSTEM', key: 'K', name: 'n', type: 'sz', data: 'a\nb' }, 'data'],
    ['no type', { hive: 'SYSTEM', key: 'K', name: 'n', data: 'x' }, 'type'],
    ['delete with data', { hive: 'SYSTEM', key: 'K', name: 'n', delete: true, data: 'x' }, 'delete'],
  ])('refuses %s, naming the field', (_n, value, field) => {
    expect(() => validateParams({ registry: [value] })).toThrow(`params.registry[0].${field}`);
  });
});

describe('renderUnattend', () => {
  it('renders the computer name, a static address from the VM index, DNS, domain join, time zone and first logon commands', () => {
    const params = renderParams({
      computerName: '${vm}',
      unattend: {
        timeZone: 'W. Europe Standard Time',
        interfaces: [{ name: 'Ethernet', address: { ipFromIndex: '192.0.2.100/24' }, gateway: '192.0.2.1', dns: ['192.0.2.53'], search: ['corp.example'] }],
        domain: { name: 'corp.example', user: 'joiner', ou: 'OU=Lab,DC=corp,DC=example' },
        firstLogonCommands: ['cmd /c echo ${vm} > C:\\first.txt'],
      },
    }, { vm: 'Win_07', index: 7 });
    expect(params.computerName).toBe('win-07');
    const xml = renderUnattend(unattendSchema.parse(params.unattend), { computerName: params.computerName as string, domainJoinPassword: 'p<w>&"' });
    for (const part of [
      '<ComputerName>win-07</ComputerName>',
      '<TimeZone>W. Europe Standard Time</TimeZone>',
      '<Identifier>Ethernet</Identifier>',
      '<IpAddress wcm:action="add" wcm:keyValue="1">192.0.2.107/24</IpAddress>',
      '<NextHopAddress>192.0.2.1</NextHopAddress>',
      '<DNSDomain>corp.example</DNSDomain>',
      '<Password>p&lt;w&gt;&amp;&quot;</Password>',
      '<MachineObjectOU>OU=Lab,DC=corp,DC=example</MachineObjectOU>',
      '<CommandLine>cmd /c echo Win_07 &gt; C:\\first.txt</CommandLine>',
    ]) expect(xml).toContain(part);
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\r\n<unattend xmlns="urn:schemas-microsoft-com:unattend"')).toBe(true);
  });

  it('names the field of a computer name too long for NetBIOS, rendered per VM', () => {
    expect(() => renderParams({ computerName: '${vm}' }, { vm: 'a-very-long-vm-name', index: 1 })).toThrow('params.computerName');
    expect(() => validateParams({ computerName: '12345' })).toThrow('params.computerName');
  });
});

describe('guestOsMismatches (the OS guard)', () => {
  const WIN: GuestOs = { type: 'windows', source: 'inventory' };
  const LINUX: GuestOs = { type: 'linux', family: 'debian', source: 'inspection' };
  it.each<[string, GuestOs, { operations: string[]; params: Record<string, unknown> }, string[]]>([
    ['Windows: Linux operations and params, each named', WIN, { operations: ['customize', 'machine-id'], params: { hostname: 'x', delete: ['/a'], computerName: 'W' } }, ['operations.customize', 'operations.machine-id', 'params.hostname', 'params.delete']],
    ['Windows: Windows params only', WIN, { operations: [], params: { computerName: 'W', registry: [] } }, []],
    ['Linux: Windows params named', LINUX, { operations: ['customize'], params: { hostname: 'x', computerName: 'W', unattend: {} } }, ['params.computerName', 'params.unattend']],
    ['Linux: Linux request', LINUX, { operations: ['machine-id'], params: { hostname: 'x' } }, []],
    ['unknown OS refuses nothing', { type: 'unknown' }, { operations: ['machine-id'], params: { computerName: 'W' } }, []],
  ])('%s', (_n, os, plan, fields) => {
    expect(guestOsMismatches(os, plan)).toEqual(fields);
  });

  it('uses SAMPLE_CONTEXT-safe names', () => {
    expect(renderParams({ computerName: '${vm}-${index}' }, SAMPLE_CONTEXT).computerName).toBe('vm-1');
  });
});
