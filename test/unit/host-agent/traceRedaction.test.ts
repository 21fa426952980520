import { redactTraceLine } from '../../../host-agent/sysprep/traceRedaction';

describe('redactTraceLine', () => {
  it.each([
    // Lines as virt-sysprep 1.48 prints them with -v -x (hashes shortened).
    ['libguestfs: trace: aug_set "/files/etc/shadow/root/password" "$y$j9T$QVjkiMwgWG2z49z25OxoBw0g$n30JLV"', 'libguestfs: trace: aug_set "/files/etc/shadow/root/password" <redacted>'],
    ['libguestfs: trace: aug_set "/files/etc/shadow/student/password" "$6$salt$hash"', 'libguestfs: trace: aug_set "/files/etc/shadow/student/password" <redacted>'],
    ['libguestfs: trace: aug_set "/files/etc/gshadow/wheel/password" "!"', 'libguestfs: trace: aug_set "/files/etc/gshadow/wheel/password" <redacted>'],
    ['libguestfs: trace: write "/usr/lib/virt-sysprep/scripts/0001-x" "#!/bin/sh\\x0aecho \\"s3cret\\"\\x0a"', 'libguestfs: trace: write "/usr/lib/virt-sysprep/scripts/0001-x" <redacted>'],
    ['libguestfs: trace: internal_write "/etc/machine-id" "d1681ac2977b\\x0a"', 'libguestfs: trace: internal_write "/etc/machine-id" <redacted>'],
    ['libguestfs: trace: write_append "/root/.ssh/authorized_keys" "ssh-ed25519 AAAA"', 'libguestfs: trace: write_append "/root/.ssh/authorized_keys" <redacted>'],
    ['libguestfs: trace: write "/a \\"quoted\\" name" "content"', 'libguestfs: trace: write "/a \\"quoted\\" name" <redacted>'],
  ])('cuts the value of %s', (line, expected) => {
    expect(redactTraceLine(line)).toBe(expected);
  });

  it.each([
    ['libguestfs: trace: aug_ls "/files/etc/shadow"'],
    ['libguestfs: trace: aug_set "/files/etc/hostname/hostname" "vm-1"'],
    ['libguestfs: trace: write = 0'],
    ['libguestfs: trace: mktemp "/etc/shadow.guestfsXXXXXX"'],
    ['[  59.1] Setting passwords'],
    ['# virt-sysprep -v -x --root-password file:/run/ovirt-sysprep-agent/j/f0'],
    ['virt-sysprep: error: write "/x" "y"'],
  ])('keeps %s', (line) => {
    expect(redactTraceLine(line)).toBe(line);
  });
});
