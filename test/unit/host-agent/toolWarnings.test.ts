// Which warnings mean "asked for and not applied": the table, against what the job asked for.
import { isTraceArtifact, unappliedField } from '../../../host-agent/sysprep/toolWarnings';

const ASKED = { params: ['hostname', 'timezone', 'rootPassword', 'users', 'firewall'], operations: ['customize', 'fs-uuids', 'machine-id'] };
const NOTHING = { params: [], operations: ['machine-id'] };

describe('unappliedField', () => {
  it.each([
    // the hostname entry's script writes /etc/hostname after the tool: the tool's line is information, the script's own says
    ['hostname could not be set for this type of guest', ASKED, undefined],
    ['hostname not set: the guest has no /etc/hostname and no systemd, and virt-customize did not set it either', ASKED, 'params.hostname'],
    ['timezone could not be set for this type of guest', ASKED, 'params.timezone'],
    ['passwords could not be set for this type of guest', ASKED, 'params.rootPassword'],
    ['passwords could not be set for this type of guest', { params: ['users'], operations: [] }, 'params.users'],
    ['SSH key could be injected for this type of guest', ASKED, 'params.users'],
    // printed whenever the guest has no seed file it knows: nothing shared, nothing missed
    ['random seed could not be set for this type of guest', ASKED, undefined],
    ['cannot set random UUID on filesystem /dev/sda1 type ntfs: not supported', ASKED, 'operations.fs-uuids'],
    ['the guest has neither firewalld (firewall-offline-cmd) nor ufw: ports 80/tcp not opened (no host firewall found)', ASKED, 'params.firewall'],
    // the same messages about something the job did not ask for
    ['timezone could not be set for this type of guest', NOTHING, undefined],
    // any other warning
    ['the guest has an old kernel', ASKED, undefined],
  ])('%s (%j)', (message, asked, field) => {
    expect(unappliedField(message, asked)).toBe(field);
  });
});

describe('isTraceArtifact', () => {
  it.each([
    ['Guestfs.Error("debug: ") (ignored)', true],
    ['hostname could not be set for this type of guest', false],
  ])('%s', (message, expected) => expect(isTraceArtifact(message)).toBe(expected));
});
