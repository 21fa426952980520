// The Windows answer file (`unattend` customisation): a structured value, rendered PER VM
// (its `${vm}` patterns and `ipFromIndex` addresses like the Linux network entry's, the
// computer name from `computerName` when it gives none) into the unattend.xml Windows
// Setup reads from C:\Windows\Panther at the first boot after a `sysprep /generalize`
// (specialize pass: name, addresses, domain join; oobeSystem pass: time zone, first
// logon commands). The domain join password is not part of this value: it is the secret
// param `domainJoinPassword`, given to render() only on the agent, in a 0600 file.
import { z } from 'zod';
import { networkSchema, renderedInterfaces } from '../network';
import type { NetworkInterface } from '../network';
import { hostname } from '../values';

/** A NetBIOS computer name: 1-15 letters, digits and "-", not digits only. */
export const COMPUTER_NAME = /^(?![0-9]+$)[A-Za-z0-9]([A-Za-z0-9-]{0,13}[A-Za-z0-9])?$/;
export const computerName = z.string().regex(COMPUTER_NAME, 'is not a Windows computer name (1-15 letters, digits and "-", not only digits, no "-" at either end)');

/** Windows time zone ids ("W. Europe Standard Time", "UTC"): `tzutil /l` lists them. */
const windowsTimeZone = z.string().regex(/^[A-Za-z][A-Za-z0-9 .()+-]{0,63}$/, 'is not a Windows time zone id such as "W. Europe Standard Time" (tzutil /l lists them)');

const oneLine = (max: number) => z.string().min(1, 'must not be empty').max(max).regex(/^[^\x00-\x1f]*$/, 'must be on one line');

export const unattendSchema = z
  .object({
    /** Default: the `computerName` param, else "*" (Windows makes a random one). */
    computerName: computerName.optional(),
    timeZone: windowsTimeZone.optional(),
    /** Static or DHCP interfaces by Windows interface alias ("Ethernet"), as the Linux `network` entry. */
    interfaces: networkSchema.optional(),
    domain: z
      .object({
        name: hostname,
        /** The account that joins, in that domain; its password is `params.domainJoinPassword`. */
        user: oneLine(104),
        ou: oneLine(1024).optional(),
      })
      .strict()
      .optional(),
    firstLogonCommands: z.array(oneLine(1024)).min(1).max(64).optional(),
    organization: oneLine(256).optional(),
    owner: oneLine(256).optional(),
    arch: z.enum(['amd64', 'x86', 'arm64']).optional(),
  })
  .strict();
export type Unattend = z.infer<typeof unattendSchema>;

export interface UnattendSecrets {
  /** The computer name when the value gives none (the `computerName` param). */
  computerName?: string;
  domainJoinPassword?: string;
}

export const xmlText = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** The rendered unattend.xml (CRLF, as Windows writes it). */
export function renderUnattend(u: Unattend, extra: UnattendSecrets = {}): string {
  const arch = u.arch ?? 'amd64';
  const component = (name: string, body: string[]) => [
    `    <component name="${name}" processorArchitecture="${arch}" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">`,
    ...body.map((l) => `      ${l}`),
    '    </component>',
  ];
  const el = (tag: string, value: string) => `<${tag}>${xmlText(value)}</${tag}>`;

  const shell = [el('ComputerName', u.computerName ?? extra.computerName ?? '*')];
  if (u.organization) shell.push(el('RegisteredOrganization', u.organization));
  if (u.owner) shell.push(el('RegisteredOwner', u.owner));
  if (u.timeZone) shell.push(el('TimeZone', u.timeZone));
  const specialize = component('Microsoft-Windows-Shell-Setup', shell);

  const nics = u.interfaces ? renderedInterfaces(u.interfaces as NetworkInterface[]) : [];
  if (nics.length) {
    const tcpip = nics.flatMap((n) => [
      '  <Interface wcm:action="add">',
      `    <Ipv4Settings>${el('DhcpEnabled', n.dhcp ? 'true' : 'false')}</Ipv4Settings>`,
      `    ${el('Identifier', n.name)}`,
      ...(n.address ? [`    <UnicastIpAddresses><IpAddress wcm:action="add" wcm:keyValue="1">${xmlText(n.address)}</IpAddress></UnicastIpAddresses>`] : []),
      ...(n.gateway ? [`    <Routes><Route wcm:action="add">${el('Identifier', '0')}${el('Prefix', '0.0.0.0/0')}${el('NextHopAddress', n.gateway)}</Route></Routes>`] : []),
      '  </Interface>',
    ]);
    specialize.push(...component('Microsoft-Windows-TCPIP', ['<Interfaces>', ...tcpip, '</Interfaces>']));
    const withDns = nics.filter((n) => n.dns?.length || n.search?.length);
    if (withDns.length) {
      const dns = withDns.flatMap((n) => [
        '  <Interface wcm:action="add">',
        `    ${el('Identifier', n.name)}`,
        ...(n.dns?.length ? [`    <DNSServerSearchOrder>${n.dns.map((ip, i) => `<IpAddress wcm:action="add" wcm:keyValue="${i + 1}">${xmlText(ip)}</IpAddress>`).join('')}</DNSServerSearchOrder>`] : []),
        ...(n.search?.length ? [`    ${el('DNSDomain', n.search[0])}`] : []),
        '  </Interface>',
      ]);
      specialize.push(...component('Microsoft-Windows-DNS-Client', ['<Interfaces>', ...dns, '</Interfaces>']));
    }
  }
  if (u.domain) {
    if (extra.domainJoinPassword === undefined) throw new Error('renderUnattend: a domain join without its password');
    specialize.push(...component('Microsoft-Windows-UnattendedJoin', [
      '<Identification>',
      `  <Credentials>${el('Domain', u.domain.name)}${el('Username', u.domain.user)}${el('Password', extra.domainJoinPassword)}</Credentials>`,
      `  ${el('JoinDomain', u.domain.name)}`,
      ...(u.domain.ou ? [`  ${el('MachineObjectOU', u.domain.ou)}`] : []),
      '</Identification>',
    ]));
  }

  const oobe: string[] = [];
  if (u.timeZone) oobe.push(el('TimeZone', u.timeZone));
  if (u.firstLogonCommands) {
    oobe.push('<FirstLogonCommands>');
    u.firstLogonCommands.forEach((cmd, i) => oobe.push(`  <SynchronousCommand wcm:action="add">${el('Order', String(i + 1))}${el('CommandLine', cmd)}</SynchronousCommand>`));
    oobe.push('</FirstLogonCommands>');
  }
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<unattend xmlns="urn:schemas-microsoft-com:unattend" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State">',
    '  <settings pass="specialize">',
    ...specialize,
    '  </settings>',
    ...(oobe.length ? ['  <settings pass="oobeSystem">', ...component('Microsoft-Windows-Shell-Setup', oobe), '  </settings>'] : []),
    '</unattend>',
  ];
  return `${lines.join('\r\n')}\r\n`;
}
