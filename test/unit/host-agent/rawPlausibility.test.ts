import { isText, rawImageProblem } from '../../../host-agent/storage/rawPlausibility';

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const text4k = (line: string) => bytes(line.repeat(Math.ceil(4096 / line.length)).slice(0, 4096));
const mbr = () => {
  const b = new Uint8Array(4096);
  b.set(bytes('\xeb\x63\x90'), 0);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
};

describe('rawImageProblem', () => {
  it.each([
    ['an empty file', 0, new Uint8Array(0), /empty/],
    ['a size that is not whole sectors', 1000, new Uint8Array(1000), /1000 bytes.*512-byte sectors/],
    ['one byte short of a sector', 511, new Uint8Array(511), /sectors/],
    ['a text file of whole sectors', 1024, text4k('root:x:0:0:root:/root:/bin/sh\n').subarray(0, 1024), /text/],
    ['a large text file (first 4 KiB read)', 1 << 20, text4k('Jan 10 10:00:00 host kernel: hello\n'), /first 4096 bytes are text/],
    ['UTF-8 text with CRLF and tabs', 512, text4k('Grüße\tà tous\r\n').subarray(0, 512), /text/],
    ['text without any newline', 512, text4k('A').subarray(0, 512), /text/],
  ])('refuses %s', (_what, size, head, reason) => {
    expect(rawImageProblem(size as number, head as Uint8Array)).toMatch(reason as RegExp);
  });

  it.each([
    ['zeros (an unpartitioned disk)', 1 << 20, new Uint8Array(4096)],
    ['an MBR boot sector', 64 << 20, mbr()],
    ['text followed by a NUL byte', 512, bytes('hello world\n\0')],
    ['invalid UTF-8', 512, new Uint8Array([0x41, 0xff, 0xfe, 0x41])],
    ['a control character in text', 512, bytes('abc\x1bdef\n')],
  ])('accepts %s', (_what, size, head) => {
    expect(rawImageProblem(size as number, head as Uint8Array)).toBeUndefined();
  });
});

describe('isText', () => {
  it('is not fooled by a multi-byte character cut at the end of the window', () => {
    const cut = bytes('température\n'.repeat(10) + 'é').subarray(0, -1);
    expect(isText(cut)).toBe(true);
  });
  it('says nothing empty is text', () => {
    expect(isText(new Uint8Array(0))).toBe(false);
  });
});
