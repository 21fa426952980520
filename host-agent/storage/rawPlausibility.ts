// Whether a file declared "raw" is plausibly a disk image. qemu-img reads ANY file as
// raw, so a declared raw format proves nothing: without this check a text file (a
// config file, a log, a password file) inside a storage root would be accepted as a
// disk, recorded by the engine and handed to virt-sysprep. Pure, so it is table-tested.
//
// A disk image has a size that is a whole number of 512-byte sectors, and its first
// sectors hold binary structures (MBR/GPT, a filesystem superblock, zeros): never only
// printable text. Both tests are cheap and read only the first 4 KiB.

/** How much of the file the text test looks at. */
export const RAW_HEAD_BYTES = 4096;
export const SECTOR_BYTES = 512;

/** Why the file cannot be a raw disk image, or undefined when it plausibly is one. */
export function rawImageProblem(size: number, head: Uint8Array): string | undefined {
  if (size === 0) return 'it is empty';
  if (size % SECTOR_BYTES !== 0) return `its size (${size} bytes) is not a whole number of ${SECTOR_BYTES}-byte sectors`;
  if (isText(head.subarray(0, RAW_HEAD_BYTES))) return `its first ${Math.min(head.length, RAW_HEAD_BYTES)} bytes are text, not disk data`;
  return undefined;
}

/** Printable ASCII or UTF-8 text (tab, newline, carriage return and form feed allowed), no other control byte. */
export function isText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  let chars: string;
  try {
    // stream: a multi-byte character cut by the 4 KiB boundary is not an encoding error.
    chars = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f]/.test(chars);
}
