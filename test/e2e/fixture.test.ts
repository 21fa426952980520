// Checks the cached guest fixture with ONE libguestfs launch (guestRead).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { guestRead } from '../helpers/disk';
import { cachedGuestImage, GOLDEN_HOSTNAME, GOLDEN_MACHINE_ID, libguestfsEnv } from '../helpers/guestImage';

const execFileAsync = promisify(execFile);

jest.setTimeout(10 * 60 * 1000);

describe('guest image fixture', () => {
  let image: string;

  beforeAll(async () => {
    image = await cachedGuestImage();
  });

  it('has the golden identity, read in one guestfish launch', async () => {
    const files = await guestRead(image, [
      '/etc/hostname',
      '/etc/machine-id',
      '/etc/ssh/ssh_host_ed25519_key.pub',
      '/etc/os-release',
      '/does/not/exist',
      '/home/student',
    ]);
    expect(files['/etc/hostname']?.trim()).toBe(GOLDEN_HOSTNAME);
    expect(files['/etc/machine-id']?.trim()).toBe(GOLDEN_MACHINE_ID);
    expect(files['/etc/machine-id']?.trim()).not.toBe('');
    expect(files['/etc/ssh/ssh_host_ed25519_key.pub']).toMatch(/^ssh-ed25519 /);
    expect(files['/etc/os-release']).toContain('VERSION_ID="12"');
    expect(files['/does/not/exist']).toBeNull();
    expect(files['/home/student']).toBeNull(); // a directory is not a file
  });

  it('virt-sysprep --list-operations exits 0', async () => {
    const { stdout } = await execFileAsync('virt-sysprep', ['--list-operations'], { env: libguestfsEnv() });
    expect(stdout).toMatch(/^machine-id\b/m);
    expect(stdout).toMatch(/^ssh-hostkeys\b/m);
  });
});
