// Parsers of guestfish's answers (host-agent/inspection/guestfishOutput.ts), on answers
// guestfish 1.48 gave for the fixture images.
import { isTrue, kernelVersions, lines, parseFilesystems, parseMountpoints, parsePasswd, parseStatvfs } from '../../../host-agent/inspection/guestfishOutput';

describe('guestfish answers', () => {
  it.each([
    ['/: /dev/sda1', [{ path: '/', device: '/dev/sda1' }]],
    // Mount order: parents first, whatever order guestfish prints them in.
    ['/var: /dev/sdb1\n/boot: /dev/sda1\n/: /dev/mapper/vg-root', [
      { path: '/', device: '/dev/mapper/vg-root' }, { path: '/var', device: '/dev/sdb1' }, { path: '/boot', device: '/dev/sda1' },
    ]],
    ['', []],
    ['garbage line', []],
  ])('inspect-get-mountpoints %j', (out, expected) => {
    expect(parseMountpoints(out)).toEqual(expected);
  });

  it.each([
    ['bsize: 4096\nfrsize: 4096\nblocks: 12269\nbfree: 11500\nbavail: 10752\nfiles: 3072\nffree: 2990\nfavail: 2990\nfsid: 1\nflag: 4096\nnamemax: 255', { totalBytes: 4096 * 12269, freeBytes: 4096 * 10752 }],
    // ntfs-3g: frsize as bsize.
    ['bsize: 4096\nfrsize: 4096\nblocks: 16120\nbfree: 15472\nbavail: 15472', { totalBytes: 4096 * 16120, freeBytes: 4096 * 15472 }],
    ['bsize: 4096', undefined],
  ])('statvfs', (out, expected) => {
    expect(parseStatvfs(out)).toEqual(expected);
  });

  it('/etc/passwd: accounts, malformed and comment lines skipped', () => {
    expect(parsePasswd('root:x:0:0:root:/root:/bin/sh\n# comment:x:1:1:a:b:c\nbroken line\nstudent:x:1001:1001:Student,,,:/home/student:/bin/sh\nbad:x:NaN:1::/:/bin/sh\n')).toEqual([
      { name: 'root', uid: 0, home: '/root', shell: '/bin/sh' },
      { name: 'student', uid: 1001, home: '/home/student', shell: '/bin/sh' },
    ]);
  });

  it.each([
    [['vmlinuz-6.1.0-18-amd64', 'initrd.img-6.1.0-18-amd64', 'vmlinuz-6.1.0-17-amd64', 'config-6.1.0-18-amd64'], [], ['6.1.0-17-amd64', '6.1.0-18-amd64']],
    [['vmlinuz-0-rescue-abc', 'vmlinuz-4.18.0-513.el8.x86_64'], ['4.18.0-513.el8.x86_64'], ['4.18.0-513.el8.x86_64']],
    // No kernel in /boot (a kernel on a separate image, a container-made guest): the modules tell.
    [[], ['6.5.0-1-amd64'], ['6.5.0-1-amd64']],
    [[], [], []],
  ])('kernels of /boot %j and /lib/modules %j', (boot, modules, expected) => {
    expect(kernelVersions(boot, modules)).toEqual(expected);
  });

  it('list-filesystems, lines, booleans', () => {
    expect(parseFilesystems('/dev/sda1: ntfs\n/dev/sda2: unknown\n')).toEqual([{ device: '/dev/sda1', type: 'ntfs' }, { device: '/dev/sda2', type: 'unknown' }]);
    expect(lines(' a\n\nb \n')).toEqual(['a', 'b']);
    expect(lines(undefined)).toEqual([]);
    expect([isTrue('true'), isTrue('false'), isTrue(undefined)]).toEqual([true, false, false]);
  });
});
