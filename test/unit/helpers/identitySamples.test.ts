// The fixtures carry every identity item of their family (computed on the trees, no image
// is built): each applicable item has identity in the golden tree, the samples are paths
// of their items, and the measured-table logic reads edits as designed.
import { IDENTITY_ITEM_BY_NAME, IDENTITY_ITEMS } from '../../../shared/identity';
import { familyOfFlavour, GUEST_FLAVOURS, GuestFlavour, guestTree } from '../../helpers/guestImage';
import { itemsOf } from '../../helpers/identitySamples';
import { cellOf, clonesCell, GuestFile, identityState, pathOfItem } from '../../helpers/identityView';

const FLAVOURS = Object.keys(GUEST_FLAVOURS) as GuestFlavour[];

function treeFiles(flavour: GuestFlavour): GuestFile[] {
  return guestTree(flavour).flatMap((e) => (e.type === 'file' ? [{ path: e.path, content: Buffer.from(e.content) }] : []));
}

describe('identity samples in the guest fixtures', () => {
  it.each(FLAVOURS)('the %s fixture carries every item of its family, and none of another family', (flavour) => {
    const files = treeFiles(flavour);
    const family = familyOfFlavour(flavour);
    const states = Object.fromEntries(itemsOf(family).map((item) => [item.name, identityState(item, files.filter((f) => pathOfItem(item, f.path)))]));
    expect(Object.entries(states).filter(([, s]) => s.state !== 'present')).toEqual([]);
    const foreign = IDENTITY_ITEMS.filter((i) => !i.families.includes(family) && !IDENTITY_ITEMS.some((o) => o !== i && o.families.includes(family) && o.paths.some((p) => i.paths.includes(p))));
    for (const item of foreign) expect([item.name, files.filter((f) => pathOfItem(item, f.path)).map((f) => f.path)]).toEqual([item.name, []]);
  });

  it('has a family for every flavour, and every family a flavour', () => {
    expect(new Set(FLAVOURS.map(familyOfFlavour))).toEqual(new Set(['debian', 'el', 'suse']));
  });

  it('reads a keyfile without its mac-address as gone, and a replaced iSCSI name as gone', () => {
    const nm = IDENTITY_ITEM_BY_NAME.get('nm-keyfile-mac')!;
    const golden = identityState(nm, [{ path: 'k', content: Buffer.from('[ethernet]\nmac-address=52:54:00:12:34:56\n') }]);
    const edited = identityState(nm, [{ path: 'k', content: Buffer.from('[ethernet]\n') }]);
    expect(golden.state).toBe('present');
    expect(cellOf(edited, golden)).toBe('gone');
    const iscsi = IDENTITY_ITEM_BY_NAME.get('iscsi-initiator-name-debian')!;
    const replaced = (iscsi.edit as { replaceWith: string }).replaceWith;
    expect(identityState(iscsi, [{ path: 'i', content: Buffer.from(replaced) }])).toEqual({ state: 'absent' });
  });

  it('tells clones that share an item from clones that each have their own', () => {
    const item = IDENTITY_ITEM_BY_NAME.get('machine-id')!;
    const state = (s: string) => identityState(item, [{ path: 'm', content: Buffer.from(s) }]);
    const golden = state('golden\n');
    expect(clonesCell([state('a\n'), state('b\n'), state('c\n')], golden)).toBe('changed');
    expect(clonesCell([state('a\n'), state('a\n'), state('c\n')], golden)).toBe('kept');
    expect(clonesCell([state('a\n'), state('golden\n'), state('c\n')], golden)).toBe('kept');
    expect(clonesCell([state(''), state(''), state('')], golden)).toBe('gone');
    expect(cellOf(state('golden\n'), golden)).toBe('kept');
  });
});
