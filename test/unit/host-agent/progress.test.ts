import { LineSplitter, parseProgressLine, parseToolError, parseTraceLine, parseWarningLine, phaseAfter, ProgressLine } from '../../../host-agent/sysprep/progress';

describe('parseProgressLine', () => {
  it.each([
    ['[  15.1] Performing "ssh-hostkeys" ...', { kind: 'operation', elapsed: 15.1, operation: 'ssh-hostkeys' }],
    ['[   0.0] Examining the guest ...', { kind: 'step', elapsed: 0, text: 'Examining the guest ...' }],
    ['[ 120.5] Setting the hostname: vm-1', { kind: 'step', elapsed: 120.5, text: 'Setting the hostname: vm-1' }],
    ['libguestfs: trace: launch', null],
    ['Performing "ssh-hostkeys" ...', null],
  ])('%s', (line, expected) => {
    expect(parseProgressLine(line)).toEqual(expected);
  });
});

describe('parseToolError', () => {
  it('extracts the message of the error line', () => {
    expect(parseToolError('virt-sysprep: error: /run/x/f0: command exited with an error')).toBe('/run/x/f0: command exited with an error');
    expect(parseToolError('virt-sysprep: warning: something')).toBeNull();
  });
});

describe('LineSplitter', () => {
  it('reassembles lines split across chunks, on \\n, \\r\\n and \\r', () => {
    const s = new LineSplitter();
    expect(s.push('[   1.0] Perf')).toEqual([]);
    expect(s.push('orming "a" ...\n[   2.0] Performing "b" ...\r\n')).toEqual(['[   1.0] Performing "a" ...', '[   2.0] Performing "b" ...']);
    expect(s.push('50%\r60%\rdone')).toEqual(['50%', '60%']);
    expect(s.flush()).toEqual(['done']);
    expect(s.flush()).toEqual([]);
  });
});

// Lines of a real `virt-sysprep -v -x` run (1.48.6, TCG) on the test guest: only the end
// of the appliance's launch says it is up; its kernel and guestfsd lines around it do not.
describe('parseTraceLine', () => {
  it.each([
    ['libguestfs: appliance is up', { kind: 'appliance-up' }],
    ['libguestfs: trace: launch = 0', { kind: 'appliance-up' }],
    ['libguestfs: appliance is up\r', { kind: 'appliance-up' }],
    ['libguestfs: trace: launch', null],
    ['libguestfs: launch: backend=direct', null],
    ['libguestfs: begin building supermin appliance', null],
    ['libguestfs: finished building supermin appliance', null],
    ['libguestfs: recv_from_daemon: received GUESTFS_LAUNCH_FLAG', null],
    ['[    0.000000] Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org)', null],
    ['lrwxrwxrwx 1 0 0  9 Dec  4 14:20 scsi-0QEMU_QEMU_HARDDISK_appliance -> ../../sda', null],
    ['libguestfs: trace: launch = -1 (error)', null],
    ['guestfsd: <= list_partitions (0x8) request length 40 bytes', null],
    ['echo libguestfs: appliance is up', null],
  ])('%j', (line, expected) => {
    expect(parseTraceLine(line)).toEqual(expected);
  });
});

describe('phaseAfter', () => {
  const up: ProgressLine = { kind: 'appliance-up' };
  const op: ProgressLine = { kind: 'operation', elapsed: 27.6, operation: 'machine-id' };
  const step: ProgressLine = { kind: 'step', elapsed: 0, text: 'Examining the guest ...' };
  it.each<[string, ProgressLine, string | null]>([
    ['starting-appliance', up, 'operations'],
    // Without -v there is no trace: the first operation ends the boot.
    ['starting-appliance', op, 'operations'],
    ['starting-appliance', step, null],
    ['operations', up, null],
    ['operations', op, null],
    ['preparing', up, null],
    ['committing', op, null],
    ['', op, null],
  ])('%s + %j -> %s', (current, line, expected) => {
    expect(phaseAfter(current, line)).toBe(expected);
  });
});

describe('parseWarningLine', () => {
  it.each([
    ['virt-sysprep: warning: hostname could not be set for this type of guest', 'hostname could not be set for this type of guest'],
    ['virt-sysprep: warning: random seed could not be set for this type of guest  ', 'random seed could not be set for this type of guest'],
    ['virt-customize: warning: timezone could not be set for this type of guest', 'timezone could not be set for this type of guest'],
    ['libguestfs: warning: something odd', 'something odd'],
    // our guest scripts' lines, dumped into the -v trace by virt-customize
    ['warning: the guest has neither firewalld (firewall-offline-cmd) nor ufw: ports 80/tcp not opened (no host firewall found)', 'the guest has neither firewalld (firewall-offline-cmd) nor ufw: ports 80/tcp not opened (no host firewall found)'],
    // not warnings: the appliance kernel's, the trace quoting text, errors, progress
    ['[    1.234567] WARNING: CPU: 0 PID: 1 at kernel/foo.c', null],
    ['libguestfs: trace: sh "echo \'warning: x\'"', null],
    ['virt-sysprep: error: boom', null],
    ['[  15.1] Performing "customize" ...', null],
    ['warning: ', null],
  ])('%s', (line, expected) => {
    expect(parseWarningLine(line)).toBe(expected);
  });
});
