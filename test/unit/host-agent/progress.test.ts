import { LineSplitter, parseProgressLine, parseToolError } from '../../../host-agent/sysprep/progress';

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
