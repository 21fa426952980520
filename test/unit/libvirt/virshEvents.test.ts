// The event child's argv and the parser of its lines, on virsh 9.0's output as captured
// from a real libvirtd (`virsh event --loop --event lifecycle`).
import { eventArgv, parseLifecycleEvent } from '../../../engine-plugin/libvirt/virshEvents';

describe('virsh lifecycle events', () => {
  it('runs one read-only child for every domain, lifecycle events only, until killed', () => {
    expect(eventArgv('qemu:///system')).toEqual(['-r', '-q', '-c', 'qemu:///system', 'event', '--loop', '--event', 'lifecycle']);
  });

  it.each([
    ["event 'lifecycle' for domain 'web-1': Defined Added", { domain: 'web-1', event: 'Defined', detail: 'Added' }],
    ["event 'lifecycle' for domain 'web-1': Defined Updated", { domain: 'web-1', event: 'Defined', detail: 'Updated' }],
    ["event 'lifecycle' for domain 'evx probe2': Defined Renamed", { domain: 'evx probe2', event: 'Defined', detail: 'Renamed' }],
    ["event 'lifecycle' for domain 'web-1': Started Booted", { domain: 'web-1', event: 'Started', detail: 'Booted' }],
    ["event 'lifecycle' for domain 'web-1': Resumed Unpaused", { domain: 'web-1', event: 'Resumed', detail: 'Unpaused' }],
    ["event 'lifecycle' for domain 'web-1': Shutdown Finished after host request", { domain: 'web-1', event: 'Shutdown', detail: 'Finished after host request' }],
    ["event 'lifecycle' for domain 'web-1': Stopped Destroyed", { domain: 'web-1', event: 'Stopped', detail: 'Destroyed' }],
    ["event 'lifecycle' for domain 'web-1': Undefined Removed\n", { domain: 'web-1', event: 'Undefined', detail: 'Removed' }],
    ["event 'lifecycle' for domain 'web-1': PMSuspended Memory", { domain: 'web-1', event: 'PMSuspended', detail: 'Memory' }],
    // A name holding quotes and the separator: the event word at the end decides.
    ["event 'lifecycle' for domain 'it's': Started x': Defined Added", { domain: "it's': Started x", event: 'Defined', detail: 'Added' }],
  ])('parses %j', (line, expected) => {
    expect(parseLifecycleEvent(line)).toEqual(expected);
  });

  it.each([
    [''],
    ["event 'reboot' for domain 'web-1'"],
    ["event 'lifecycle' for domain 'web-1': Exploded Badly"],
    ['2026-12-06 02:20:19.125+0000: event lifecycle'],
  ])('ignores %j', (line) => {
    expect(parseLifecycleEvent(line)).toBeUndefined();
  });
});
