// The one wrapper of `openssl passwd`: a SHA-512 crypt hash ("$6$SALT$HASH", a fresh
// random salt each call) of a password for /etc/shadow, as virt-customize's
// `--password-crypto sha512` makes with the host's crypt(3). The secret goes on stdin,
// never in argv (argv is visible to every user of the host in /proc).
import { run } from '../../shared/tools/exec';

const SHA512_CRYPT = /^\$6\$[A-Za-z0-9./]{1,16}\$[A-Za-z0-9./]{86}$/;

export async function hashPassword(plain: string): Promise<string> {
  // virt-customize keeps only the first line of a password file: a newline cannot be part of one.
  if (/[\n\r\0]/.test(plain)) throw new Error('hashPassword: a password is one line');
  const { stdout } = await run('openssl', ['passwd', '-6', '-stdin'], { input: `${plain}\n`, timeoutMs: 30_000 });
  const hash = stdout.trim();
  if (!SHA512_CRYPT.test(hash)) throw new Error('hashPassword: openssl did not answer a SHA-512 crypt hash');
  return hash;
}
