import { redactTraceLine, TraceRedactor } from '../../../host-agent/sysprep/traceRedaction';

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
    ['libguestfs: trace: sh "exec >>\'/tmp/builder.log\' 2>&1\\n\\n\\n#!/bin/sh\\necho breaking >&2\\nexit 1\\n\\n"', 'libguestfs: trace: sh <redacted>'],
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

  describe('TraceRedactor (the job\'s own secrets)', () => {
    const script = '#!/bin/sh\nexport TOKEN="tok-123456"\necho done\nfi\n';
    const r = new TraceRedactor(['pw-Secret-1', script]);
    it.each([
      // The verbose forms virt-customize and the appliance print a --run script in.
      ['export TOKEN="tok-123456"', '<redacted>'],
      ['  export TOKEN="tok-123456"  ', '  <redacted>  '],
      ['commandrvf: /bin/sh -c "exec >>\'/tmp/builder.log\' 2>&1', 'commandrvf: /bin/sh -c "exec >>\'/tmp/builder.log\' 2>&1'],
      ['guestfsd: <= sh ... export TOKEN=\\"tok-123456\\" ...', 'guestfsd: <= sh ... <redacted> ...'],
      ['virt-sysprep: error: password pw-Secret-1 refused', 'virt-sysprep: error: password <redacted> refused'],
      ['echo done', '<redacted>'],
      // Lines shorter than the minimum are left alone (they would cut words out of the whole log).
      ['fi', 'fi'],
      ['an unrelated line', 'an unrelated line'],
    ])('%s', (line, expected) => {
      expect(r.redact(line)).toBe(expected);
    });
    it('applies the rules too, and does nothing without secrets', () => {
      expect(r.redact('libguestfs: trace: aug_set "/files/etc/shadow/root/password" "$6$x$y"')).toBe('libguestfs: trace: aug_set "/files/etc/shadow/root/password" <redacted>');
      expect(new TraceRedactor().redact('export TOKEN="tok-123456"')).toBe('export TOKEN="tok-123456"');
    });
  });
});
