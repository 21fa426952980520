// Test fixture: a small phony Windows disk built offline (issue 15), enough for
// libguestfs's inspection (daemon/inspect_fs_windows.ml) to report Windows, its version,
// product name and computer name, and for hivex tools to read and edit its registry.
//
// Nothing is copied from elsewhere: the registry hives start as an empty hive this
// module writes byte by byte (the regf format hivex reads: a base block and one hbin
// holding the root key and its security cell), then `hivexregedit --merge` adds the keys
// of WINDOWS_SOFTWARE_REG / WINDOWS_SYSTEM_REG; cmd.exe is a minimal PE32+ header that
// `file` names "PE32+ executable ... x86-64" (inspection derives the arch from it).
// One guestfish session then makes an MBR disk with one NTFS partition and uploads the
// tree. The image is cached under .cache/fixtures/windows-<hash>.qcow2 like guestImage.ts
// (same lock-and-rename cache), the hash covering the registry text and the recipe.
//
// What inspection reads (inspect_fs_windows.ml): a systemroot /Windows with System32,
// System32/config and System32/cmd.exe; SOFTWARE\Microsoft\Windows NT\CurrentVersion
// (ProductName, CurrentMajorVersionNumber/Minor or CurrentVersion, InstallationType,
// CurrentBuildNumber); SYSTEM\Select\Current -> ControlSetNNN\Services\Tcpip\Parameters
// Hostname; SYSTEM\MountedDevices (drive letters: 12-byte MBR blobs, disk id + offset).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { FIXTURE_CACHE_DIR, libguestfsEnv, withBuildLock } from './guestImage';

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------
// Known values, exported so tests can assert against them.

export const WINDOWS_GOLDEN = {
  /** ComputerName and Tcpip Hostname (inspection reports the latter as hostname). */
  computerName: 'WIN-GOLDEN01',
  productName: 'Windows Server 2019 Standard',
  installationType: 'Server',
  editionId: 'ServerStandard',
  /** What inspection reports: CurrentMajorVersionNumber.CurrentMinorVersionNumber. */
  majorVersion: 10,
  minorVersion: 0,
  buildNumber: '17763',
  arch: 'x86_64',
  /** MBR disk signature (bytes at 0x1b8) the MountedDevices blob of C: names. */
  diskId: 0x0f5e5a11,
  /** Start of the NTFS partition, in 512-byte sectors. */
  partitionStartSector: 2048,
  timeZone: 'UTC',
} as const;

/** Where Windows keeps what tests look at, as guestfish paths (case as created here). */
export const WINDOWS_PATHS = {
  systemRoot: '/Windows',
  config: '/Windows/System32/config',
  softwareHive: '/Windows/System32/config/SOFTWARE',
  systemHive: '/Windows/System32/config/SYSTEM',
  cmdExe: '/Windows/System32/cmd.exe',
  panther: '/Windows/Panther',
  setupScripts: '/Windows/Setup/Scripts',
} as const;

const DISK_SIZE = '64M';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const dword = (n: number) => `dword:${hex(n, 8)}`;
/** A REG_BINARY in .reg syntax. */
const binary = (b: Buffer) => `hex:${[...b].map((x) => hex(x, 2)).join(',')}`;

/** MountedDevices' MBR blob of a partition: disk signature (LE) + byte offset (LE 64). */
function mbrDriveBlob(diskId: number, startSector: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(diskId, 0);
  b.writeBigUInt64LE(BigInt(startSector) * 512n, 4);
  return b;
}

const W = WINDOWS_GOLDEN;

/** HKLM\SOFTWARE as hivexregedit merges it (prefix HKEY_LOCAL_MACHINE\SOFTWARE). */
export const WINDOWS_SOFTWARE_REG = [
  'Windows Registry Editor Version 5.00',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft]',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT]',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]',
  `"ProductName"="${W.productName}"`,
  `"EditionID"="${W.editionId}"`,
  `"InstallationType"="${W.installationType}"`,
  // Windows 10 / 2016+ keep 6.3 here for old programs; the numbers below win.
  '"CurrentVersion"="6.3"',
  `"CurrentMajorVersionNumber"=${dword(W.majorVersion)}`,
  `"CurrentMinorVersionNumber"=${dword(W.minorVersion)}`,
  `"CurrentBuild"="${W.buildNumber}"`,
  `"CurrentBuildNumber"="${W.buildNumber}"`,
  '"SystemRoot"="C:\\\\Windows"',
  '"RegisteredOwner"="Golden Image"',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows]',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion]',
  '"ProgramFilesDir"="C:\\\\Program Files"',
  '',
  // Empty, as on a fresh install: first-boot commands go here (issue 15's RunOnce path).
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run]',
  '',
  '[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RunOnce]',
  '',
].join('\r\n');

/** HKLM\SYSTEM as hivexregedit merges it (prefix HKEY_LOCAL_MACHINE\SYSTEM). */
export const WINDOWS_SYSTEM_REG = [
  'Windows Registry Editor Version 5.00',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]',
  `"Current"=${dword(1)}`,
  `"Default"=${dword(1)}`,
  `"LastKnownGood"=${dword(1)}`,
  `"Failed"=${dword(0)}`,
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001]',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control]',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\ComputerName]',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\ComputerName\\ComputerName]',
  `"ComputerName"="${W.computerName}"`,
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\ComputerName\\ActiveComputerName]',
  `"ComputerName"="${W.computerName}"`,
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\TimeZoneInformation]',
  `"TimeZoneKeyName"="${W.timeZone}"`,
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services]',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Tcpip]',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Tcpip\\Parameters]',
  `"Hostname"="${W.computerName}"`,
  `"NV Hostname"="${W.computerName}"`,
  '"Domain"=""',
  '',
  '[HKEY_LOCAL_MACHINE\\SYSTEM\\MountedDevices]',
  `"\\\\DosDevices\\\\C:"=${binary(mbrDriveBlob(W.diskId, W.partitionStartSector))}`,
  '',
].join('\r\n');

// ---------------------------------------------------------------------------
// An empty registry hive, written byte by byte (layout: hivex's lib/hivex-internal.h).

const HBIN = 0x1000;
/** Windows FILETIME of the fixed timestamp (2024-01-10T10:00:00Z): reproducible bytes. */
const FILETIME = (BigInt(Date.UTC(2024, 0, 10, 10)) + 11644473600000n) * 10000n;

/**
 * An empty hive: the 4 KiB base block ("regf") and one 4 KiB hbin holding the root
 * key (nk), the security cell (sk) every key inherits (hivex refuses to add a child
 * to a key without one), and one free cell for the rest of the page. hivex appends
 * new hbins as keys and values are merged in.
 */
export function emptyHive(name: string): Buffer {
  const buf = Buffer.alloc(2 * HBIN);
  const rootName = Buffer.from('ROOT', 'latin1');
  const nkLen = 88; // 80-byte nk header + name, 8-aligned
  const secDesc = Buffer.from([
    1, 0, 0x04, 0x80, // revision 1, control SE_SELF_RELATIVE | SE_DACL_PRESENT (null DACL)
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // owner, group, SACL, DACL offsets: none
  ]);
  const skLen = 48; // 24-byte sk header + 20-byte descriptor, 8-aligned
  const nkOff = HBIN + 0x20;
  const skOff = nkOff + nkLen;
  const freeOff = skOff + skLen;

  // Base block.
  buf.write('regf', 0, 'latin1');
  buf.writeUInt32LE(1, 0x04); // sequence numbers equal: hive cleanly written
  buf.writeUInt32LE(1, 0x08);
  buf.writeBigInt64LE(FILETIME, 0x0c);
  buf.writeUInt32LE(1, 0x14); // major
  buf.writeUInt32LE(3, 0x18); // minor
  buf.writeUInt32LE(0, 0x1c); // primary file
  buf.writeUInt32LE(1, 0x20); // format: direct memory load
  buf.writeUInt32LE(nkOff - HBIN, 0x24); // root cell, relative to the first hbin
  buf.writeUInt32LE(HBIN, 0x28); // size of the hbins
  buf.writeUInt32LE(1, 0x2c); // clustering factor
  Buffer.from(name, 'utf16le').copy(buf, 0x30, 0, 64);
  let sum = 0;
  for (let i = 0; i < 0x1fc; i += 4) sum = (sum ^ buf.readUInt32LE(i)) >>> 0;
  buf.writeUInt32LE(sum, 0x1fc);

  // hbin header.
  buf.write('hbin', HBIN, 'latin1');
  buf.writeUInt32LE(0, HBIN + 4); // offset of this hbin from the first
  buf.writeUInt32LE(HBIN, HBIN + 8); // size
  buf.writeBigInt64LE(FILETIME, HBIN + 0x14);

  // Root key.
  buf.writeInt32LE(-nkLen, nkOff);
  buf.write('nk', nkOff + 4, 'latin1');
  buf.writeUInt16LE(0x2c, nkOff + 6); // HiveEntry | NoDelete | CompressedName
  buf.writeBigInt64LE(FILETIME, nkOff + 8);
  buf.writeUInt32LE(0, nkOff + 20); // parent
  buf.writeUInt32LE(0, nkOff + 24); // subkeys
  buf.writeUInt32LE(0xffffffff, nkOff + 32); // subkey list: none
  buf.writeUInt32LE(0xffffffff, nkOff + 36); // volatile subkey list: none
  buf.writeUInt32LE(0, nkOff + 40); // values
  buf.writeUInt32LE(0xffffffff, nkOff + 44); // value list: none
  buf.writeUInt32LE(skOff - HBIN, nkOff + 48);
  buf.writeUInt32LE(0xffffffff, nkOff + 52); // class name: none
  buf.writeUInt16LE(rootName.length, nkOff + 76);
  rootName.copy(buf, nkOff + 80);

  // Security cell: a circular list of one.
  buf.writeInt32LE(-skLen, skOff);
  buf.write('sk', skOff + 4, 'latin1');
  buf.writeUInt32LE(skOff - HBIN, skOff + 8);
  buf.writeUInt32LE(skOff - HBIN, skOff + 12);
  buf.writeUInt32LE(1, skOff + 16); // referenced by the root
  buf.writeUInt32LE(secDesc.length, skOff + 20);
  secDesc.copy(buf, skOff + 24);

  // The rest of the page: one free cell.
  buf.writeInt32LE(2 * HBIN - freeOff, freeOff);
  return buf;
}

// ---------------------------------------------------------------------------
// A minimal PE32+ console executable header: what `file` needs to say
// "PE32+ executable (console) x86-64, for MS Windows" (inspection's arch source).

export function phonyCmdExe(): Buffer {
  const peOff = 0x80;
  const optSize = 0xf0;
  const b = Buffer.alloc(0x400);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(peOff, 0x3c);
  b.write('PE\0\0', peOff, 'latin1');
  const coff = peOff + 4;
  b.writeUInt16LE(0x8664, coff); // machine: x86-64
  b.writeUInt16LE(0, coff + 2); // sections
  b.writeUInt16LE(optSize, coff + 16);
  b.writeUInt16LE(0x0022, coff + 18); // executable, large-address aware
  const opt = coff + 20;
  b.writeUInt16LE(0x20b, opt); // PE32+
  b.writeBigUInt64LE(0x140000000n, opt + 24); // image base
  b.writeUInt32LE(0x1000, opt + 32); // section alignment
  b.writeUInt32LE(0x200, opt + 36); // file alignment
  b.writeUInt16LE(6, opt + 40); // OS version 6.0
  b.writeUInt16LE(6, opt + 48); // subsystem version 6.0
  b.writeUInt32LE(0x1000, opt + 56); // size of image
  b.writeUInt32LE(0x400, opt + 60); // size of headers
  b.writeUInt16LE(3, opt + 68); // subsystem: Windows console
  b.writeUInt32LE(16, opt + 108); // data directories
  return b;
}

// ---------------------------------------------------------------------------
// Build.

/** Bump when the build procedure (not the registry text) changes in a way that matters. */
const BUILD_RECIPE = 'guestfish mbr ntfs hivexregedit v1';

/** Hash of everything the image is made of. */
export function windowsImageHash(): string {
  const h = createHash('sha256');
  for (const part of [BUILD_RECIPE, DISK_SIZE, JSON.stringify(WINDOWS_GOLDEN), WINDOWS_SOFTWARE_REG, WINDOWS_SYSTEM_REG]) {
    h.update(part);
    h.update('\0');
  }
  h.update(emptyHive('x'));
  h.update(phonyCmdExe());
  return h.digest('hex').slice(0, 16);
}

async function run(cmd: string, args: string[], opts: { input?: string } = {}): Promise<void> {
  const child = execFileAsync(cmd, args, { env: libguestfsEnv(), maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60 * 1000 });
  if (opts.input !== undefined) {
    child.child.stdin?.end(opts.input);
  }
  try {
    await child;
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${cmd} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

/** A hive file made from the empty hive and a .reg text (keys under `prefix`). */
async function buildHive(file: string, name: string, prefix: string, reg: string): Promise<void> {
  await fs.writeFile(file, emptyHive(name));
  const regFile = `${file}.reg`;
  await fs.writeFile(regFile, reg);
  await run('hivexregedit', ['--merge', '--prefix', prefix, file, regFile]);
  await fs.rm(regFile);
}

/** guestfish quoting: double quotes, backslash-escaped (guestfish reads \r and \n escapes). */
const q = (s: string) =>
  `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r/g, '\\r').replace(/\n/g, '\\n')}"`;

/** Build the phony Windows image at `outPath` (qcow2, overwrites). One appliance launch. */
export async function buildWindowsImage(outPath: string): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ovirt-sysprep-windows-'));
  try {
    const software = path.join(work, 'SOFTWARE');
    const system = path.join(work, 'SYSTEM');
    const cmdExe = path.join(work, 'cmd.exe');
    await buildHive(software, 'SOFTWARE', 'HKEY_LOCAL_MACHINE\\SOFTWARE', WINDOWS_SOFTWARE_REG);
    await buildHive(system, 'SYSTEM', 'HKEY_LOCAL_MACHINE\\SYSTEM', WINDOWS_SYSTEM_REG);
    await fs.writeFile(cmdExe, phonyCmdExe());
    const diskId = Buffer.alloc(4);
    diskId.writeUInt32LE(W.diskId);
    const diskIdEscaped = [...diskId].map((x) => `\\x${hex(x, 2)}`).join('');

    await fs.mkdir(path.dirname(path.resolve(outPath)), { recursive: true });
    await fs.rm(outPath, { force: true });
    const script = [
      `disk-create ${q(outPath)} qcow2 ${DISK_SIZE}`,
      `add ${q(outPath)} format:qcow2`,
      'run',
      'part-init /dev/sda mbr',
      `part-add /dev/sda p ${W.partitionStartSector} -64`,
      'part-set-bootable /dev/sda 1 true',
      'part-set-mbr-id /dev/sda 1 0x07',
      // The disk signature MountedDevices' C: blob names.
      `pwrite-device /dev/sda "${diskIdEscaped}" 0x1b8`,
      'mkfs ntfs /dev/sda1',
      'mount /dev/sda1 /',
      `mkdir-p ${q(WINDOWS_PATHS.config)}`,
      `mkdir-p ${q('/Windows/System32/drivers/etc')}`,
      `mkdir-p ${q('/Windows/Temp')}`,
      `mkdir-p ${q('/Program Files')}`,
      `mkdir-p ${q('/Users/Administrator')}`,
      `upload ${q(software)} ${q(WINDOWS_PATHS.softwareHive)}`,
      `upload ${q(system)} ${q(WINDOWS_PATHS.systemHive)}`,
      `upload ${q(cmdExe)} ${q(WINDOWS_PATHS.cmdExe)}`,
      `write ${q('/Windows/System32/drivers/etc/hosts')} ${q('127.0.0.1 localhost\r\n')}`,
      'umount-all',
      '',
    ].join('\n');
    try {
      await run('guestfish', ['--'], { input: script });
    } catch (err) {
      await fs.rm(outPath, { force: true });
      throw err;
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

const inProcess: { p?: Promise<string> } = {};

/**
 * Path of the cached phony Windows image `<repo>/.cache/fixtures/windows-<hash>.qcow2`,
 * built once (~20 s under TCG) under the same cross-process lock as the Linux fixtures.
 */
export function cachedWindowsImage(): Promise<string> {
  if (!inProcess.p) {
    inProcess.p = withBuildLock(path.join(FIXTURE_CACHE_DIR, `windows-${windowsImageHash()}.qcow2`), buildWindowsImage)
      .catch((err) => {
        inProcess.p = undefined;
        throw err;
      });
  }
  return inProcess.p;
}

/** Full (standalone) copy of the cached phony Windows image to `destPath`. */
export async function copyWindowsImage(destPath: string): Promise<void> {
  const src = await cachedWindowsImage();
  await fs.mkdir(path.dirname(path.resolve(destPath)), { recursive: true });
  await fs.copyFile(src, destPath);
  await fs.chmod(destPath, 0o644);
}
