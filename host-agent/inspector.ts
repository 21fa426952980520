// Read-only OS inspection of a VM's disks with virt-inspector (what the admin sees
// before choosing operations). Paths go through the same confinement as jobs.
import type { InspectResult } from '../shared/wireTypes';
import { Hypervisor } from './hypervisor';
import { run } from '../shared/tools/exec';

const field = (xml: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1] ?? '';

export class Inspector {
  constructor(private readonly hypervisor: Hypervisor, private readonly bin = 'virt-inspector') {}

  async inspect(disks: { path: string; format: string }[]): Promise<InspectResult> {
    const args = ['--no-applications', '--no-icon', ...disks.flatMap((d) => [`--format=${d.format}`, '-a', d.path])];
    const { stdout } = await run(this.bin, args, { env: await this.hypervisor.env(), timeoutMs: 300_000 });
    const xml = unescapeXml(stdout);
    return {
      osType: field(xml, 'name'),
      distro: field(xml, 'distro'),
      productName: field(xml, 'product_name'),
      version: `${field(xml, 'major_version')}.${field(xml, 'minor_version')}`,
      hostname: field(xml, 'hostname'),
      root: field(xml, 'root'),
      packageFormat: [field(xml, 'package_format')].filter(Boolean),
    };
  }
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}
